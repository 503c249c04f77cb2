/**
 * `make demo`'s story on the real network: the runner exits 0 only if every step behaved
 * as told (grant crosses, fetch verified, revocation crosses, refusal, access log).
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { buildGateway, REPO, testEnv } from './cli-harness';

describe('make demo story', () => {
  beforeAll(() => buildGateway());

  it('tells the whole story and exits 0, stopping the relays and the record exchange it started', async () => {
    const env = testEnv();
    const { code, out } = await new Promise<{ code: number; out: string }>((resolveRun) => {
      const child = spawn(process.execPath, [join(REPO, 'gateway', 'dist', 'demo', 'story.js')], { cwd: REPO, env, stdio: ['ignore', 'pipe', 'pipe'] });
      let text = '';
      child.stdout.on('data', (c: Buffer) => (text += c.toString()));
      child.stderr.on('data', (c: Buffer) => (text += c.toString()));
      child.on('close', (c) => resolveRun({ code: c ?? -1, out: text }));
    });
    expect({ code, tail: out.slice(-3000) }).toMatchObject({ code: 0 });
    expect(out).toMatch(/the grant crosses from chain-a to chain-b[\s\S]*chain-b: consent active, usable for TREAT/);
    expect(out).toMatch(/ACCESS_DENIED: HospitalAMSP refused rec-[0-9a-f]+: consent-revoked/);
    expect(out).toMatch(/HospitalBMSP {2}ALLOWED[\s\S]*HospitalBMSP {2}REFUSED/);
    expect(out).toMatch(/demo complete/);
  });
});
