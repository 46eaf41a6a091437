import type { Command } from '../main.ts';
import { choiceOption, numberOption, parseCommandArgs } from '../args.ts';
import { usageError } from '../../errors.ts';
import { MODEL_OPTIONS, readModelFile, readProfile, readToken, TOKEN_OPTIONS } from '../endpoint-options.ts';
import { untilSignal } from '../until-signal.ts';

const HELP = `failmode feed — WebSocket feed gateway for many \`failmode serve --bus\` instances (NATS)

Usage
  failmode feed --bus nats://HOST:PORT [--port P] [options]

  Speaks the feed protocol v1 of \`failmode serve\` unchanged (hello, subscribe, stop, tokens, lagged; the same
  limits), with every serve instance on the bus behind it: a subscriber sees the samples of all instances, a
  \`stop\` reaches the instance that runs the sample. The gateway keeps no state beyond its connections: run as many
  as you like behind a load balancer. When an instance stops sending heartbeats (about 3 s), its open samples end
  with finishReason "error". Samples pushed with \`tokens\` are monitored here (with --model-file, scored).
  Semantics and a deployment sketch: docs/scale-out.md.

Options
  --bus URL                    NATS server(s), e.g. nats://127.0.0.1:4222 (comma-separated for a cluster; required)
  --host H                     address to bind (default 127.0.0.1)
  --port P                     port (default 8788; 0 = any free port)
  --model-file M.json          failure model for pushed samples and the \`hello\` message (default none)
  --profile P                  answer extraction for pushed samples: final-answer | boxed | final-boxed | code | none
  --stop-on POLICY             any-window (default) | commitment, for pushed samples
  --token SECRET               required bearer token (prefer --token-env)
  --token-env NAME             read the token from this environment variable
  --max-subscriber-queue N     bytes buffered per subscriber before messages are dropped (default 1048576)
  --max-message-bytes B        largest WebSocket message from a client (default 262144)
  --allow-origin ORIGIN        browser origin allowed (repeatable; default none)
  -h, --help                   show this help

Examples
  nats-server -js &
  failmode serve --upstream http://127.0.0.1:8000/v1 --model-file m.json --bus nats://127.0.0.1:4222 --port 8787 &
  failmode serve --upstream http://127.0.0.1:8001/v1 --model-file m.json --bus nats://127.0.0.1:4222 --port 8789 &
  failmode feed --bus nats://127.0.0.1:4222 --port 8788
`;

export const command: Command = {
  summary: 'WebSocket feed gateway for many serve instances on a NATS bus',
  async run(argv) {
    const { values } = parseCommandArgs(argv, {
      bus: { type: 'string' },
      host: { type: 'string' },
      port: { type: 'string' },
      ...MODEL_OPTIONS,
      'stop-on': { type: 'string' },
      ...TOKEN_OPTIONS,
      'max-subscriber-queue': { type: 'string' },
      'max-message-bytes': { type: 'string' },
      'allow-origin': { type: 'string', multiple: true },
    }, false);
    if (values.help) {
      process.stdout.write(HELP);
      return 0;
    }
    if (values.bus === undefined) throw usageError('Expected --bus nats://HOST:PORT: the gateway serves the feed of the instances on that bus');
    const port = numberOption('port', values.port, { integer: true, min: 0, max: 65535 }) ?? 8788;
    const maxSubscriberQueueBytes = numberOption('max-subscriber-queue', values['max-subscriber-queue'], { integer: true, min: 1024 });
    const maxMessageBytes = numberOption('max-message-bytes', values['max-message-bytes'], { integer: true, min: 256 });
    const profile = readProfile(values);
    const stopPolicy = choiceOption('stop-on', values['stop-on'], ['any-window', 'commitment'] as const);
    const token = readToken(values);
    const model = await readModelFile(values);
    const { startFeedGateway } = await import('../../feed/feed-gateway.ts');
    const handle = await startFeedGateway({
      bus: values.bus, host: values.host ?? '127.0.0.1', port, token, model,
      ...(profile !== undefined ? { profile } : {}), ...(stopPolicy !== undefined ? { stopPolicy } : {}),
      ...(maxSubscriberQueueBytes !== undefined ? { maxSubscriberQueueBytes } : {}),
      ...(maxMessageBytes !== undefined ? { maxMessageBytes } : {}),
      allowedOrigins: values['allow-origin'] ?? [],
    });
    const err = process.stderr;
    err.write(`failmode feed listening on ${handle.url}\n`);
    err.write(`  feed   ${handle.url.replace(/^http/, 'ws')}/feed (protocol 1)${token ? ', token required' : ''}\n`);
    err.write(`  bus    ${values.bus.replace(/\/\/[^@/]*@/, '//')} as ${handle.bus.instance}\n`);
    err.write('  Ctrl-C to stop\n');
    await untilSignal();
    err.write('failmode feed: shutting down\n');
    await handle.close();
    return 0;
  },
};
