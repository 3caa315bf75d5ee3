/**
 * The baseline of the HTTP benchmark: a fastify hello-world with logging off that answers
 * `GET /body` with a constant body of BODY_BYTES bytes (the same size as the procfs-sim response
 * it is compared with) and the content type given in BODY_TYPE. Prints "listening <port>".
 */
import Fastify from 'fastify';

const size = Number(process.env.BODY_BYTES ?? '2');
const type = process.env.BODY_TYPE ?? 'text/plain';
const body = type.includes('json')
  ? `{"pad":"${'x'.repeat(Math.max(0, size - 10))}"}`
  : `${'x'.repeat(Math.max(0, size - 1))}\n`;

const app = Fastify({ logger: false });
app.get('/body', (_req, reply) => {
  reply.type(type).send(body);
});
app.post('/body', (_req, reply) => {
  reply.type(type).send(body);
});
const address = await app.listen({ host: '127.0.0.1', port: 0 });
process.stdout.write(`listening ${new URL(address).port}\n`);
