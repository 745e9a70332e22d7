// Drives pulsar-flex (an independent, pure-JavaScript Pulsar client) against a broker, for the C# interop tests.
//   node interop.js produce <host:port> <topic>          sends 3 single messages, then a batch of 3, with properties
//   node interop.js consume <host:port> <topic> <count>  subscribes (Exclusive, durable), prints "subscribed", then one
//                                                        JSON line per message received, and exits after <count>
// Messages and their properties are fixed here so that the C# side can check them byte for byte.
'use strict';
const { Producer, Consumer, logLevel } = require('pulsar-flex');

const [mode, server, topic, countText] = process.argv.slice(2);
// pulsar-flex logs go to stderr (shown by the tests when a run fails); PULSAR_FLEX_LOG=DEBUG shows more.
const level = logLevel[process.env.PULSAR_FLEX_LOG || 'INFO'];
const toStderr = () => ({ label, log }) => console.error(`${log.timestamp} ${label} ${log.message}`);

async function produce() {
  const producer = new Producer({
    topic,
    discoveryServers: [server],
    producerAccessMode: Producer.ACCESS_MODES.SHARED,
    logLevel: level,
    logCreator: toStderr,
  });
  await producer.create();
  for (let i = 0; i < 3; i++) {
    await producer.sendMessage({ payload: `flex-single-${i}`, properties: { msg_type: 'Insert', index: `${i}` } });
  }
  await producer.sendBatch({
    messages: [0, 1, 2].map((i) => ({ payload: `flex-batch-${i}`, properties: { msg_type: 'Delete', index: `${i}` } })),
  });
  await producer.close();
  console.log('produced');
}

async function consume() {
  const count = Number(countText);
  const consumer = new Consumer({
    topic,
    discoveryServers: [server],
    subscription: 'pulsar-flex-interop',
    subType: Consumer.SUB_TYPES.EXCLUSIVE,
    consumerName: 'pulsar-flex-interop',
    receiveQueueSize: 100,
    logLevel: level,
    logCreator: toStderr,
  });
  await consumer.subscribe();
  console.log('subscribed');
  let received = 0;
  await consumer.run({
    autoAck: true,
    onMessage: async ({ message, properties, command }) => {
      const id = command.messageId;
      console.log(JSON.stringify({
        payload: Buffer.from(message).toString('utf8'),
        properties,
        ledgerId: String(id.ledgerid),
        entryId: String(id.entryid),
      }));
      if (++received === count) {
        await consumer.unsubscribe().catch(() => {});
        process.exit(0);
      }
    },
  });
}

const timer = setTimeout(() => {
  console.error(`pulsar-flex ${mode} did not finish in 60 s`);
  process.exit(2);
}, 60000);
timer.unref();

(mode === 'produce' ? produce() : consume())
  .then(() => { if (mode === 'produce') process.exit(0); })
  .catch((e) => {
    console.error(`pulsar-flex ${mode} failed: ${e && e.stack ? e.stack : e}`);
    process.exit(1);
  });
