/* mockd: librdkafka's in-process mock Kafka cluster as a separate process, for tests.
 * Usage: mockd BROKERS [TOPIC:PARTITIONS ...]
 * Prints the bootstrap address ("127.0.0.1:PORT,...") on stdout, then runs until SIGTERM/SIGINT.
 * librdkafka's own log lines go to stderr. Built by scripts/lib/common.sh (kafka_mock_start) against the
 * librdkafka.so of the librdkafka.redist package the solution restores, so no librdkafka headers are needed: the
 * few functions used are declared here as librdkafka's public rdkafka.h and rdkafka_mock.h declare them. */
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef struct rd_kafka_s rd_kafka_t;
typedef struct rd_kafka_conf_s rd_kafka_conf_t;
typedef struct rd_kafka_mock_cluster_s rd_kafka_mock_cluster_t;
typedef enum { RD_KAFKA_PRODUCER = 0, RD_KAFKA_CONSUMER = 1 } rd_kafka_type_t;
typedef enum { RD_KAFKA_CONF_UNKNOWN = -2, RD_KAFKA_CONF_INVALID = -1, RD_KAFKA_CONF_OK = 0 } rd_kafka_conf_res_t;
typedef int rd_kafka_resp_err_t;

rd_kafka_conf_t *rd_kafka_conf_new(void);
rd_kafka_conf_res_t rd_kafka_conf_set(rd_kafka_conf_t *conf, const char *name, const char *value, char *errstr, size_t errstr_size);
rd_kafka_t *rd_kafka_new(rd_kafka_type_t type, rd_kafka_conf_t *conf, char *errstr, size_t errstr_size);
void rd_kafka_destroy(rd_kafka_t *rk);
const char *rd_kafka_err2str(rd_kafka_resp_err_t err);
rd_kafka_mock_cluster_t *rd_kafka_mock_cluster_new(rd_kafka_t *rk, int broker_cnt);
void rd_kafka_mock_cluster_destroy(rd_kafka_mock_cluster_t *mcluster);
const char *rd_kafka_mock_cluster_bootstraps(const rd_kafka_mock_cluster_t *mcluster);
rd_kafka_resp_err_t rd_kafka_mock_topic_create(rd_kafka_mock_cluster_t *mcluster, const char *topic, int partition_cnt, int replication_factor);

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
