/* The kernel's share of a sleeping driver's round trip over loopback TCP.
 *
 * A C client and a C echo server (a forked child) exchange one small message at a time
 * over 127.0.0.1 with the syscalls WsSocketConnection makes per round trip when it
 * sleeps between messages: poll(POLLOUT, 0) before the send, send, poll(POLLIN) that
 * sleeps until the reply, one recv. No TLS, no WebSocket, no managed runtime: what this
 * client's CPU costs per round trip is the floor a driver on this machine cannot go
 * below. scripts/bench-mono.sh runs it (docs/BENCH-MONO.md, "The kernel's floor").
 *
 *   cc -O2 -o loopback_floor benches/c/loopback_floor.c
 *   ./loopback_floor [message bytes, default 51] [seconds, default 3]
 *   ./loopback_floor --serve     echo server only: prints "PORT n", serves one connection
 *                                (the peer of benches/mono/SocketFloor.cs)
 *
 * 51 bytes is what the driver sends for a 16-byte binary message: a masked WebSocket
 * frame (22 bytes) in a TLS 1.2 AES-GCM record (5 + 8 + 22 + 16); the echo returns as
 * many (the real reply is 47). Prints one RESULT line: round trips, the client's CPU per
 * round trip (its run time as the scheduler counts it, /proc/self/schedstat; the client
 * is one thread) and the round-trip rate.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now_s(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec / 1e9;
}

/* This process's CPU time in seconds, as the scheduler counts it. */
static double cpu_s(void) {
    unsigned long long run = 0;
    FILE *f = fopen("/proc/self/schedstat", "r");
    if (!f || fscanf(f, "%llu", &run) != 1) {
        perror("schedstat");
        exit(1);
    }
    fclose(f);
    return run / 1e9;
}

static void die(const char *what) {
    perror(what);
    exit(1);
}

/* Accepts one connection on the listening socket l and echoes it until it ends; exits. */
static void serve(int l) {
    int one = 1;
    int fd = accept(l, NULL, NULL);
    if (fd < 0) die("accept");
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    char buf[65536];
    for (;;) {
        ssize_t n = recv(fd, buf, sizeof buf, 0);
        if (n <= 0) _exit(0);
        for (ssize_t off = 0; off < n;) {
            ssize_t k = send(fd, buf + off, n - off, 0);
            if (k <= 0) _exit(0);
            off += k;
        }
    }
}

int main(int argc, char **argv) {
    int serve_only = argc > 1 && strcmp(argv[1], "--serve") == 0;
    int size = argc > 1 && !serve_only ? atoi(argv[1]) : 51;
    double seconds = argc > 2 ? atof(argv[2]) : 3;
    if (size < 1 || size > 65536) {
        fprintf(stderr, "size 1-65536\n");
        return 2;
    }
    int one = 1;
    int l = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t al = sizeof a;
    if (l < 0 || bind(l, (struct sockaddr *)&a, sizeof a) || listen(l, 1) ||
        getsockname(l, (struct sockaddr *)&a, &al))
        die("listen");
    if (serve_only) {
        printf("PORT %d\n", ntohs(a.sin_port));
        fflush(stdout);
        serve(l);
    }
    pid_t child = fork();
    if (child < 0) die("fork");
    if (child == 0) serve(l);
    close(l);
    int c = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    if (c < 0) die("socket");
    setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (connect(c, (struct sockaddr *)&a, sizeof a) && errno != EINPROGRESS) die("connect");
    struct pollfd p = {.fd = c, .events = POLLOUT};
    if (poll(&p, 1, 5000) != 1) die("connect poll");

    char *msg = calloc(1, size), *in = malloc(65536);
    long rounds = 0;
    double t0 = 0, c0 = 0, end = now_s() + 0.5 + seconds; /* half a second of warm-up */
    int measuring = 0;
    for (;;) {
        double t = now_s();
        if (!measuring && t >= end - seconds) {
            measuring = 1;
            rounds = 0;
            t0 = t;
            c0 = cpu_s();
        }
        if (t >= end) break;
        p.events = POLLOUT;
        if (poll(&p, 1, 0) != 1) die("poll(POLLOUT, 0)");
        if (send(c, msg, size, 0) != size) die("send");
        int got = 0;
        while (got < size) {
            p.events = POLLIN;
            if (poll(&p, 1, 100) < 0) die("poll(POLLIN)");
            ssize_t n = recv(c, in, 65536, 0);
            if (n < 0 && errno == EAGAIN) continue;
            if (n <= 0) die("recv");
            got += n;
        }
        rounds++;
    }
    double secs = now_s() - t0, cpu = cpu_s() - c0;
    printf("RESULT impl=c-loopback size=%d rounds=%ld secs=%.3f rate=%.1f client_cpu_us_per_rt=%.2f client_cores=%.3f\n",
           size, rounds, secs, rounds / secs, cpu / rounds * 1e6, cpu / secs);
    close(c);
    kill(child, SIGTERM);
    waitpid(child, NULL, 0);
    return 0;
}
