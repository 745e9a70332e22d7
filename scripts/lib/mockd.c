/* mockd: librdkafka's in-process mock Kafka cluster as a separate process, for tests.
 * Usage: mockd BROKERS [TOPIC:PARTITIONS ...]
 * Prints the bootstrap address ("127.0.0.1:PORT,...") on stdout, then runs until SIGTERM/SIGINT.
 * librdkafka's own log lines go to stderr. Built by scripts/test.sh with: gcc -O2 -o mockd mockd.c -lrdkafka */
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static volatile sig_atomic_t stop;
static void on_signal(int sig) { (void)sig; stop = 1; }

int main(int argc, char **argv) {
    char err[512];
    int brokers = argc > 1 ? atoi(argv[1]) : 1;
    if (brokers < 1) brokers = 1;

    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    if (rd_kafka_conf_set(conf, "log_level", "3", err, sizeof err) != RD_KAFKA_CONF_OK) {
        fprintf(stderr, "mockd: %s\n", err);
        return 1;
    }
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err);
    if (!rk) { fprintf(stderr, "mockd: rd_kafka_new: %s\n", err); return 1; }

    rd_kafka_mock_cluster_t *mc = rd_kafka_mock_cluster_new(rk, brokers);
    if (!mc) { fprintf(stderr, "mockd: rd_kafka_mock_cluster_new failed\n"); return 1; }

    for (int i = 2; i < argc; i++) {
        char topic[256];
        int partitions = 1;
        const char *colon = strchr(argv[i], ':');
        size_t n = colon ? (size_t)(colon - argv[i]) : strlen(argv[i]);
        if (n == 0 || n >= sizeof topic) { fprintf(stderr, "mockd: bad topic '%s'\n", argv[i]); return 2; }
        memcpy(topic, argv[i], n);
        topic[n] = '\0';
        if (colon) partitions = atoi(colon + 1);
        if (partitions < 1) partitions = 1;
        rd_kafka_resp_err_t e = rd_kafka_mock_topic_create(mc, topic, partitions, 1);
        if (e) { fprintf(stderr, "mockd: topic %s: %s\n", topic, rd_kafka_err2str(e)); return 2; }
    }

    signal(SIGTERM, on_signal);
    signal(SIGINT, on_signal);
    printf("%s\n", rd_kafka_mock_cluster_bootstraps(mc));
    fflush(stdout);

    while (!stop) pause();

    rd_kafka_mock_cluster_destroy(mc);
    rd_kafka_destroy(rk);
    return 0;
}
