/**
 * Ceiling (a), the HTTP limit: a bare Fastify server (the framework of the real server) taking
 * the same signed form POST on the same path and answering the same constant empty TwiML, with
 * the body kept raw as the real webhook route does, and nothing else: no signature check, no
 * database. Prints "bare server ready at <url>" on stdout.
 */
import Fastify from 'fastify';

const EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response/>';

const app = Fastify({ logger: false });
app.removeAllContentTypeParsers();
app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_req, body, done) => done(null, body));
app.post('/webhooks/twilio/:key/sms', async (_request, reply) => reply.code(200).type('text/xml').send(EMPTY_TWIML));

const port = Number(process.env.PORT ?? 0);
await app.listen({ port, host: '127.0.0.1' });
const address = app.server.address();
const bound = typeof address === 'object' && address ? address.port : port;
process.stdout.write(`bare server ready at http://127.0.0.1:${bound}\n`);
process.on('SIGTERM', () => void app.close().then(() => process.exit(0)));
