import type { Command } from '../main.ts';
import { choiceOption, numberOption, parseCommandArgs } from '../args.ts';
import { usageError } from '../../errors.ts';
import { MODEL_OPTIONS, readAbortGrace, readModelFile, readProfile, readToken, ABORT_OPTIONS, TOKEN_OPTIONS } from '../endpoint-options.ts';
import { redactUrl } from '../../stream/redact-url.ts';
import { stopRuleShort } from '../../models/describe-stop-rule.ts';
import { untilSignal } from '../until-signal.ts';

const HELP = `failmode serve — OpenAI-compatible monitoring proxy with early stopping, and a live WebSocket feed

Usage
  failmode serve [--upstream URL] [--model-file M.json] [options]

  POST /v1/chat/completions (and the legacy POST /v1/completions) is forwarded to the upstream with logprobs on; every choice is monitored and the answer
  streams back in the shape the caller asked for. A caller asks for early stopping with the header
  \`x-failmode-early-stop: 1\` or the body field \`"failmode": {"early_stop": true}\`: a flagged sample then ends with
  \`finish_reason: "failmode_stop"\` and the upstream request is aborted. GET /v1/models is passed through,
  GET /health answers. The WebSocket feed at /feed streams what the monitor sees (protocol: docs/protocol.md).

  Safe by default: binds 127.0.0.1. Any other --host needs --token (or --token-env), checked on the proxy
  (Authorization: Bearer …) and the feed (the same header, or ?token=). Neither the token nor the upstream key is
  ever printed.

Options
  --host H                     address to bind (default 127.0.0.1)
  --port P                     port (default 8787; 0 = any free port)
  --upstream URL               OpenAI-compatible base URL to forward to, e.g. http://127.0.0.1:8000/v1
                               (without it only the feed runs: clients push tokens over the WebSocket)
  --upstream-api-key-env NAME  environment variable with the upstream's API key (default FAILMODE_UPSTREAM_API_KEY;
                               without a key and without --token the caller's Authorization is passed through)
  --model-file M.json          failure model (from \`failmode train\`); without one samples are monitored, not scored
  --profile P                  answer extraction / prefinal cut: final-answer | boxed | final-boxed | code | none
                               (default: the model's)
  --stop-on POLICY             any-window (default) | commitment (see \`failmode sample --help\`)
  --shadow                     shadow mode: judge EVERY sample by the stop policy as if early stopping were on, stop
                               none; each decision goes to the feed (\`stop\` with \`shadow: true\`) and to this
                               log (stderr: one \`shadow stop {json}\` line each). Needs --model-file
  --vote-confidence P          the feed's \`vote\` messages say \`decided\` once P(majority stays) ≥ P (default 0.95;
                               needs the question's sample count, header x-failmode-samples)
  --token SECRET               required bearer token (prefer --token-env: arguments are visible to other users)
  --token-env NAME             read the token from this environment variable
  --max-subscriber-queue N     bytes buffered per WebSocket subscriber before messages are dropped (default 1048576)
  --max-message-bytes B        largest WebSocket message from a client (default 262144)
  --max-body-bytes B           largest proxy request body (default 4194304)
  --allow-origin ORIGIN        browser origin allowed on the feed (repeatable; default none)
  --abort-grace S              after aborting a stopped request, check on the upstream's /metrics that the engine
                               stopped it; still running after S seconds → abort_unconfirmed on the feed and SGLang's
                               POST /abort_request {"rid"} (default: no check)
  --bus nats://HOST:PORT       scale out over NATS: publish this instance's feed on the bus, answer stops for its
                               samples, keep --min-keep counts in a NATS KV bucket (needs nats-server -js);
                               clients then connect to \`failmode feed --bus\` gateways (docs/scale-out.md)
  --workers N                  run the proxy (upstream requests, parsing, monitoring, stops) in N worker threads when
                               one core is not enough; this thread keeps the sockets, the feed and /metrics (one
                               view). A question's samples go to one worker; with --bus each worker is an
                               instance on the bus (default 0)
  -h, --help                   show this help

Examples
  failmode serve --upstream http://127.0.0.1:8000/v1 --model-file gpqa-model.json
  FAILMODE_TOKEN=s3cret failmode serve --host 0.0.0.0 --token-env FAILMODE_TOKEN --upstream http://127.0.0.1:8000/v1
  failmode serve --upstream http://gpu-node-1:8000/v1 --model-file m.json --bus nats://10.0.0.5:4222 --port 8787
  curl -N localhost:8787/v1/chat/completions -H 'content-type: application/json' -H 'x-failmode-early-stop: 1' \\
       -d '{"model":"m","stream":true,"messages":[{"role":"user","content":"…"}]}'
`;


export const command: Command = {
  summary: 'OpenAI-compatible monitoring proxy with early stopping and a WebSocket feed',
  async run(argv) {
    const { values } = parseCommandArgs(argv, {
      host: { type: 'string' },
      port: { type: 'string' },
      upstream: { type: 'string' },
      'upstream-api-key-env': { type: 'string' },
      ...MODEL_OPTIONS,
      ...ABORT_OPTIONS,
      'stop-on': { type: 'string' },
      shadow: { type: 'boolean' },
      'vote-confidence': { type: 'string' },
      ...TOKEN_OPTIONS,
      'max-subscriber-queue': { type: 'string' },
      'max-message-bytes': { type: 'string' },
      'max-body-bytes': { type: 'string' },
      'allow-origin': { type: 'string', multiple: true },
      bus: { type: 'string' },
      workers: { type: 'string' },
    }, false);
    if (values.help) {
      process.stdout.write(HELP);
      return 0;
    }
    const port = numberOption('port', values.port, { integer: true, min: 0, max: 65535 }) ?? 8787;
    const maxSubscriberQueueBytes = numberOption('max-subscriber-queue', values['max-subscriber-queue'], { integer: true, min: 1024 });
    const maxMessageBytes = numberOption('max-message-bytes', values['max-message-bytes'], { integer: true, min: 256 });
    const maxBodyBytes = numberOption('max-body-bytes', values['max-body-bytes'], { integer: true, min: 1024 });
    const profile = readProfile(values);
    const abortGraceMs = readAbortGrace(values);
    const stopPolicy = choiceOption('stop-on', values['stop-on'], ['any-window', 'commitment'] as const);
    const voteConfidence = numberOption('vote-confidence', values['vote-confidence'], { min: 0.5, max: 1 });
    const workers = numberOption('workers', values.workers, { integer: true, min: 0, max: 256 }) ?? 0;
    if (workers > 0 && values.upstream === undefined) throw usageError('--workers needs --upstream: the workers run the proxy');
    if (values.shadow && values['model-file'] === undefined) throw usageError('--shadow needs --model-file: shadow mode records the stops the failure model would make');
    const token = readToken(values);
    const keyEnv = values['upstream-api-key-env'] ?? 'FAILMODE_UPSTREAM_API_KEY';
    const upstreamApiKey = process.env[keyEnv] || null;
    if (values['upstream-api-key-env'] !== undefined && upstreamApiKey === null) throw usageError(`Expected the environment variable ${keyEnv} (--upstream-api-key-env) to hold the upstream API key, but it is empty or unset`);

    const model = await readModelFile(values);
    const { startServe } = await import('../../feed/serve-server.ts');
    const handle = await startServe({
      host: values.host ?? '127.0.0.1', port, upstream: values.upstream ?? null, upstreamApiKey, model, token, abortGraceMs,
      ...(profile !== undefined ? { profile } : {}), ...(stopPolicy !== undefined ? { stopPolicy } : {}),
      ...(maxSubscriberQueueBytes !== undefined ? { maxSubscriberQueueBytes } : {}),
      ...(maxMessageBytes !== undefined ? { maxMessageBytes } : {}),
      ...(maxBodyBytes !== undefined ? { maxBodyBytes } : {}),
      allowedOrigins: values['allow-origin'] ?? [],
      ...(values.shadow ? { shadow: true } : {}), ...(voteConfidence !== undefined ? { voteConfidence } : {}),
      log: (line) => process.stderr.write(`failmode serve: ${line}\n`),
      bus: values.bus ?? null, workers,
    });
    const feedUrl = `${handle.url.replace(/^http/, 'ws')}/feed`;
    const err = process.stderr;
    err.write(`failmode serve listening on ${handle.url}\n`);
    err.write(`  proxy  ${values.upstream ? `POST ${handle.url}/v1/chat/completions and /v1/completions → ${redactUrl(values.upstream)}` : 'off (no --upstream): feed only'}\n`);
    err.write(`  feed   ${feedUrl} (protocol 1)${token ? ', token required' : ''}\n`);
    if (handle.bus) err.write(`  bus    ${redactUrl(values.bus!)} as ${handle.bus.instance}\n`);
    if (handle.workers) err.write(`  workers ${handle.workers.count} threads run the proxy; this one keeps the sockets, the feed and /metrics\n`);
    err.write(`  model  ${model ? `${model.training.name} (${model.regime}${model.commitmentPoint !== null ? `, T*=${model.commitmentPoint}` : ''}, top-k ${model.signal.topK})` : 'none: monitoring without risk scores; early stop unavailable'}\n`);
    if (model) err.write(`  stop   ${stopRuleShort(model)}\n`);
    if (values.shadow) err.write('  shadow mode: every sample is judged by the stop policy, none is stopped (decisions: feed `stop` with shadow: true, and this log)\n');
    err.write('  Ctrl-C to stop\n');

    await untilSignal();
    err.write('failmode serve: shutting down\n');
    await handle.close();
    return 0;
  },
};
