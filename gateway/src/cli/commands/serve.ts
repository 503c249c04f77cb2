/** `serve`: the hospital gateway API (gateway/API.md) for one org, until SIGINT or SIGTERM. */
import type { Command } from 'commander';
import { loadServeConfig } from '../../api/config';
import { startApi } from '../../api/serve';
import { createLogger } from '../../logger';
import { act, required } from '../action';

export function registerServe(program: Command): void {
  program
    .command('serve')
    .description("run the hospital gateway API (HTTPS, mutual TLS for the org's systems, patient-signed requests)")
    .option('--config <file>', 'the server configuration (JSON; gateway/API.md "Configuration")')
    .action(
      act(async (ctx, o) => {
        const cfg = loadServeConfig(required(o.config as string | undefined, '--config'));
        const logger = createLogger({ name: 'medbridge-api', level: ctx.opts.verbose ? 'debug' : cfg.logLevel });
        const api = await startApi(cfg, logger);
        ctx.print({ url: api.url, openapi: `${api.url}/openapi.json`, docs: `${api.url}/docs`, mspId: api.mspId, channel: api.channel, pid: process.pid });
        await new Promise<void>((resolve) => {
          const stop = () => void api.close().then(resolve, resolve);
          process.once('SIGINT', stop);
          process.once('SIGTERM', stop);
        });
      }),
    );
}
