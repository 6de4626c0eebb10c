/*
 * The floor a close's files put under its time, measured without Python's own cost per file:
 * the same files as file_floor.py (names and sizes listed from a close's output, zero-filled),
 * created by THREADS threads into a staging copy of the output's layout (each folder made
 * once, on the thread that first needs it), synced, then put in place by renaming each top
 * folder of the copy, and synced again, as a first close does. No rendering at all.
 *
 * Until the twenty-fifth pass the close staged files in 64 flat folders and renamed each into
 * its org folder; this program measured that, and its floor was 1.4 to 2.8 s on /dev/shm.
 *
 *     gcc -O2 -o /tmp/file_floor bench/file_floor.c -lpthread
 *     (cd OUTPUT_OF_A_CLOSE && find . -type f ! -name 'ledger.sqlite*' -printf '%P\t%s\n') > /tmp/files.txt
 *     /tmp/file_floor /tmp/files.txt SCRATCH_FOLDER 2
 *
 * SCRATCH_FOLDER must not exist; it is left in place (remove it, then wait a few minutes before
 * timing anything on the same disk: ext4 here is slower for a while after a mass delete).
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static char **relativePaths;
static long *sizes;
static int fileCount;
static const char *work;
static int threadCount;
static char zeros[1 << 20];

static double now(void) {
    struct timespec time;
    clock_gettime(CLOCK_MONOTONIC, &time);
    return time.tv_sec + time.tv_nsec / 1e9;
}

static void stagedPath(char *path, size_t size, int index) {
    snprintf(path, size, "%s/.staging/%s", work, relativePaths[index]);
}

/* Makes every folder on the way to `path`'s file, as the close does the first time a folder is
 * asked for (an existing one is not an error: the other thread may have made it). */
static void makeParents(char *path, size_t prefix) {
    for (char *cursor = path + prefix; *cursor; cursor++) {
        if (*cursor != '/') continue;
        *cursor = 0;
        if (mkdir(path, 0755) != 0 && errno != EEXIST) { perror(path); exit(1); }
        *cursor = '/';
    }
}

static void *create(void *argument) {
    char path[4096];
    size_t prefix = strlen(work) + strlen("/.staging/");
    for (int index = (int)(long)argument; index < fileCount; index += threadCount) {
        stagedPath(path, sizeof path, index);
        int descriptor = open(path, O_WRONLY | O_CREAT | O_EXCL, 0644);
        if (descriptor < 0 && errno == ENOENT) {
            makeParents(path, prefix);
            descriptor = open(path, O_WRONLY | O_CREAT | O_EXCL, 0644);
        }
        if (descriptor < 0) { perror(path); exit(1); }
        for (long left = sizes[index]; left > 0;) {
            long piece = left > (long)sizeof zeros ? (long)sizeof zeros : left;
            if (write(descriptor, zeros, piece) != piece) { perror(path); exit(1); }
            left -= piece;
        }
        close(descriptor);
    }
    return NULL;
}

static void onThreads(void *(*body)(void *)) {
    pthread_t threads[64];
    for (long thread = 0; thread < threadCount; thread++) pthread_create(&threads[thread], NULL, body, (void *)thread);
    for (int thread = 0; thread < threadCount; thread++) pthread_join(threads[thread], NULL);
}

int main(int argumentCount, char **arguments) {
    if (argumentCount != 4) {
        fprintf(stderr, "usage: file_floor LIST SCRATCH_FOLDER THREADS\n");
        return 2;
    }
    FILE *list = fopen(arguments[1], "r");
    if (!list) { perror(arguments[1]); return 1; }
    work = arguments[2];
    threadCount = atoi(arguments[3]);
    if (threadCount < 1 || threadCount > 64) { fprintf(stderr, "THREADS: 1 to 64\n"); return 2; }
    int capacity = 1024;
    relativePaths = malloc(sizeof(char *) * capacity);
    sizes = malloc(sizeof(long) * capacity);
    char line[4096];
    while (fgets(line, sizeof line, list)) {
        char *tab = strchr(line, '\t');
        if (!tab) continue;
        *tab = 0;
        if (fileCount == capacity) {
            capacity *= 2;
            relativePaths = realloc(relativePaths, sizeof(char *) * capacity);
            sizes = realloc(sizes, sizeof(long) * capacity);
        }
        sizes[fileCount] = atol(tab + 1);
        relativePaths[fileCount++] = strdup(line);
    }
    char path[4096];
    if (mkdir(work, 0755) != 0) { perror(work); return 1; }
    snprintf(path, sizeof path, "%s/.staging", work);
    mkdir(path, 0755);
    double started = now();
    onThreads(create);
    int workDescriptor = open(work, O_RDONLY);
    syncfs(workDescriptor);
    double created = now();
    // The output is empty, so each top folder of the copy is new to it and moves in one rename.
    DIR *staging = opendir(path);
    if (!staging) { perror(path); return 1; }
    int renames = 0;
    for (struct dirent *entry; (entry = readdir(staging));) {
        if (strcmp(entry->d_name, ".") == 0 || strcmp(entry->d_name, "..") == 0) continue;
        char from[4096], to[4096];
        snprintf(from, sizeof from, "%s/.staging/%s", work, entry->d_name);
        snprintf(to, sizeof to, "%s/%s", work, entry->d_name);
        if (rename(from, to) != 0) { perror(to); return 1; }
        renames++;
    }
    closedir(staging);
    syncfs(workDescriptor);
    double done = now();
    printf("%d files, %d threads: create and sync %.3f s, %d renames and sync %.3f s, total %.3f s\n",
           fileCount, threadCount, created - started, renames, done - created, done - started);
    return 0;
}
