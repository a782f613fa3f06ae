/* Replays fuzz inputs without libFuzzer: every regular file named on the
   command line, and every regular file inside a named directory. */
#define _POSIX_C_SOURCE 200809L
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Runs one file; returns 1 on an I/O error (a contract violation aborts). */
static int replay_file(const char *path) {
    FILE *f = fopen(path, "rb");
    unsigned char *buf;
    long len;
    /* named first, so a sanitizer abort is attributable to its input */
    printf("replay %s\n", path);
    fflush(stdout);
    if (!f || fseek(f, 0, SEEK_END) != 0 || (len = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0) {
        fprintf(stderr, "replay: cannot read %s\n", path);
        if (f) fclose(f);
        return 1;
    }
    buf = (unsigned char *)malloc((size_t)len + 1);
    if (!buf || fread(buf, 1, (size_t)len, f) != (size_t)len) {
        fprintf(stderr, "replay: cannot read %s\n", path);
        free(buf);
        fclose(f);
        return 1;
    }
    fclose(f);
    LLVMFuzzerTestOneInput(buf, (size_t)len);
    free(buf);
    return 0;
}

static int replay_path(const char *path, unsigned *count) {
    struct stat st;
    DIR *dir;
    struct dirent *ent;
    int failed = 0;
    if (stat(path, &st) != 0) {
        fprintf(stderr, "replay: no such file %s\n", path);
        return 1;
    }
    if (!S_ISDIR(st.st_mode)) {
        ++*count;
        return replay_file(path);
    }
    dir = opendir(path);
    if (!dir) return 1;
    while ((ent = readdir(dir)) != NULL) {
        size_t need = strlen(path) + strlen(ent->d_name) + 2;
        char *full = (char *)malloc(need);
        if (!full) { failed = 1; break; }
        snprintf(full, need, "%s/%s", path, ent->d_name);
        if (stat(full, &st) == 0 && S_ISREG(st.st_mode)) {
            ++*count;
            failed |= replay_file(full);
        }
        free(full);
    }
    closedir(dir);
    return failed;
}

int main(int argc, char **argv) {
    unsigned count = 0;
    int k, failed = 0;
    if (argc < 2) {
        fprintf(stderr, "usage: %s FILE_OR_DIR...\n", argv[0]);
        return 2;
    }
    for (k = 1; k < argc; ++k) failed |= replay_path(argv[k], &count);
    printf("replayed %u inputs%s\n", count, failed ? " (with I/O errors)" : "");
    return failed || count == 0;
}
