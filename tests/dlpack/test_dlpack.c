/* dropblock_tensor_from_dlpack maps a CPU DLTensor of 4 (NHWC /
   NCHW) or 5 (NDHWC / NCDHW) dimensions, with its strides (NULL: compact)
   and byte_offset, to the descriptor the constructors give; any other
   device, dtype or rank is an error and leaves *out untouched. Built
   against the system's dlpack.h; without it the program skips (77). */
#ifdef DROPBLOCK_TEST_DLPACK
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include <dlpack/dlpack.h>
#define DROPBLOCK_IMPLEMENTATION
#include "dropblock.h"
#include "tensor_util.h"

static DLTensor dl(void *data, uint8_t code, uint8_t bits, int ndim, int64_t *shape, int64_t *strides) {
    DLTensor t;
    memset(&t, 0, sizeof t);
    t.data = data;
    t.device.device_type = kDLCPU;
    t.ndim = ndim;
    t.dtype.code = code;
    t.dtype.bits = bits;
    t.dtype.lanes = 1;
    t.shape = shape;
    t.strides = strides;
    return t;
}

/* Field by field; a size-1 axis's stride never matters. */
static void expect_same(const dropblock_tensor *a, const dropblock_tensor *b) {
    assert_ptr_equal(a->data, b->data);
    assert_int_equal(a->dtype, b->dtype);
    assert_int_equal(a->n, b->n);
    assert_int_equal(a->d, b->d);
    assert_int_equal(a->h, b->h);
    assert_int_equal(a->w, b->w);
    assert_int_equal(a->c, b->c);
    assert_true(a->n_offset == 0 && b->n_offset == 0);
    assert_true(a->n == 1 || a->stride_n == b->stride_n);
    assert_true(a->d == 1 || a->stride_d == b->stride_d);
    assert_true(a->h == 1 || a->stride_h == b->stride_h);
    assert_true(a->w == 1 || a->stride_w == b->stride_w);
    assert_true(a->c == 1 || a->stride_c == b->stride_c);
}

/* Compact 4-D and 5-D tensors in both layouts and every dtype are the
   constructors' descriptors (distinct sizes show any swap). */
static void test_compact(void **state) {
    static const struct { uint8_t code, bits; dropblock_dtype dt; } types[] = {
        {kDLFloat, 32, DROPBLOCK_F32}, {kDLFloat, 16, DROPBLOCK_F16},
        {kDLBfloat, 16, DROPBLOCK_BF16}, {kDLFloat, 64, DROPBLOCK_F64}};
    static char buf[64];
    int64_t s4[4] = {2, 3, 5, 7}, s5[5] = {2, 3, 5, 7, 11};
    size_t k;
    (void)state;
    for (k = 0; k < 4; ++k) {
        DLTensor t4 = dl(buf, types[k].code, types[k].bits, 4, s4, NULL);
        DLTensor t5 = dl(buf, types[k].code, types[k].bits, 5, s5, NULL);
        dropblock_tensor got, want;
        want = dropblock_tensor_nhwc(buf, types[k].dt, 2, 3, 5, 7);
        assert_int_equal(dropblock_tensor_from_dlpack(&t4, DROPBLOCK_NHWC, &got), DROPBLOCK_OK);
        expect_same(&got, &want);
        want = dropblock_tensor_nchw(buf, types[k].dt, 2, 3, 5, 7);
        assert_int_equal(dropblock_tensor_from_dlpack(&t4, DROPBLOCK_NCHW, &got), DROPBLOCK_OK);
        expect_same(&got, &want);
        want = dropblock_tensor_ndhwc(buf, types[k].dt, 2, 3, 5, 7, 11);
        assert_int_equal(dropblock_tensor_from_dlpack(&t5, DROPBLOCK_NHWC, &got), DROPBLOCK_OK);
        expect_same(&got, &want);
        want = dropblock_tensor_ncdhw(buf, types[k].dt, 2, 3, 5, 7, 11);
        assert_int_equal(dropblock_tensor_from_dlpack(&t5, DROPBLOCK_NCHW, &got), DROPBLOCK_OK);
        expect_same(&got, &want);
    }
}

/* PyTorch's channels_last: shape N, C, H, W with strides HWC, 1, WC, C, at
   a byte offset into its storage. The descriptor runs the same call as the
   NHWC tensor it is. */
static void test_strides_and_offset(void **state) {
    enum { N = 2, C = 3, H = 6, W = 5, COUNT = N * C * H * W, OFF = 4 };
    dropblock_config cfg = tu_config(0.7f, 0, 3, 0, 0, DROPBLOCK_SCALE_BATCH, DROPBLOCK_NHWC, 5);
    uint16_t storage[OFF + COUNT], a[COUNT], b[COUNT];
    int64_t shape[4] = {N, C, H, W}, strides[4] = {(int64_t)H * W * C, 1, (int64_t)W * C, C};
    DLTensor t = dl(storage, kDLFloat, 16, 4, shape, strides);
    dropblock_tensor got, want, ya, yb;
    tu_prng r;
    (void)state;
    tu_prng_seed(&r, 6);
    tt_fill_values(&r, DROPBLOCK_F16, storage, OFF + COUNT);
    t.byte_offset = OFF * sizeof(uint16_t);
    want = dropblock_tensor_nhwc(storage + OFF, DROPBLOCK_F16, N, H, W, C);
    assert_int_equal(dropblock_tensor_from_dlpack(&t, DROPBLOCK_NCHW, &got), DROPBLOCK_OK);
    expect_same(&got, &want);
    ya = got;
    ya.data = a;
    yb = want;
    yb.data = b;
    assert_int_equal(dropblock_forward_tensor(&cfg, 1, &got, &ya, NULL, 0, NULL, NULL), DROPBLOCK_OK);
    assert_int_equal(dropblock_forward_tensor(&cfg, 1, &want, &yb, NULL, 0, NULL, NULL), DROPBLOCK_OK);
    assert_memory_equal(a, b, sizeof a);
}

/* Everything else is an error that leaves *out as it was. */
static void test_rejected(void **state) {
    static char buf[64];
    int64_t shape[5] = {2, 3, 5, 7, 11}, bad_shape[4] = {2, 0, 5, 7}, huge[4] = {2, 3, INT64_C(1) << 31, 7};
    int64_t neg[4] = {105, 35, -7, 1};
    int k;
    (void)state;
    for (k = 0; k < 13; ++k) {
        DLTensor t = dl(buf, kDLFloat, 32, 4, shape, NULL);
        const DLTensor *tp = &t;
        dropblock_layout layout = DROPBLOCK_NCHW;
        dropblock_tensor out, before;
        dropblock_status st, want = (dropblock_status)1; /* 1: any error */
        int raw = 5;
        switch (k) {
        case 0: tp = NULL; want = DROPBLOCK_ERR_NULL; break;
        case 1: t.data = NULL; want = DROPBLOCK_ERR_NULL; break;
        case 2: t.shape = NULL; want = DROPBLOCK_ERR_NULL; break;
        case 3: t.device.device_type = kDLCUDA; want = DROPBLOCK_ERR_DEVICE; break;
        case 4: t.ndim = 3; break;
        case 5: t.ndim = 6; break;
        case 6: t.dtype.code = kDLInt; t.dtype.bits = 8; break;
        case 7: t.dtype.lanes = 4; break;
        case 8: t.dtype.bits = 8; break;
        case 9: memcpy(&layout, &raw, sizeof layout < sizeof raw ? sizeof layout : sizeof raw); break;
        case 10: t.shape = bad_shape; break;
        case 11: t.shape = huge; break;
        default: t.strides = neg; break;
        }
        memset(&out, 0x5C, sizeof out);
        before = out;
        st = dropblock_tensor_from_dlpack(tp, layout, &out);
        if (want != (dropblock_status)1) assert_int_equal(st, want);
        assert_true(st < 0);
        assert_memory_equal(&out, &before, sizeof out);
    }
    {
        DLTensor t = dl(buf, kDLFloat, 32, 4, shape, NULL);
        assert_int_equal(dropblock_tensor_from_dlpack(&t, DROPBLOCK_NHWC, NULL), DROPBLOCK_ERR_NULL);
    }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_compact),
        cmocka_unit_test(test_strides_and_offset),
        cmocka_unit_test(test_rejected),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
#else
#include <stdio.h>

int main(void) {
    puts("test_dlpack: skipped: DLPack (dlpack/dlpack.h) was not found at configure time "
         "(apt-get install libdlpack-dev)");
    return 77;
}
#endif
