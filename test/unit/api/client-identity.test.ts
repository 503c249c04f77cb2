/**
 * Hospital systems by mutual TLS (gateway/src/api/client-identity.ts), over a real loopback TLS
 * connection with throw-away PKI: a certificate of the org's CA is a caller with the role the
 * chaincode would read (medbridge.role attribute first, then the NodeOU); another org's
 * certificate, none, or a peer's is refused with its code.
 */
import { createServer, type TLSSocket } from 'node:tls';
import { connect } from 'node:tls';
import { ClientCertificates, type HospitalCaller } from '../../../gateway/src/api/client-identity';
import { ApiError } from '../../../gateway/src/api/errors';
import { createOrg, type Issued, type TestOrg } from '../../fixtures/pki';

describe('hospital callers by client certificate', () => {
  let hospitalA: TestOrg;
  let hospitalC: TestOrg;
  let server: ReturnType<typeof createServer>;
  let port: number;
  let certificates: ClientCertificates;
  const seen: Array<HospitalCaller | { code: string; status: number }> = [];

  beforeAll(async () => {
    hospitalA = await createOrg('HospitalAMSP');
    hospitalC = await createOrg('HospitalCMSP');
    const tls = await hospitalA.peer('localhost');
    certificates = new ClientCertificates('HospitalAMSP', [hospitalA.ca.certPem]);
    server = createServer({ cert: tls.certPem, key: tls.keyPem, ca: certificates.caPems, requestCert: true, rejectUnauthorized: false }, (socket: TLSSocket) => {
      try {
        seen.push(certificates.callerOf(socket));
      } catch (e) {
        if (!(e instanceof ApiError)) throw e;
        seen.push({ code: e.code, status: e.status });
      }
      socket.end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as { port: number }).port;
  });

  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  async function callerWith(client?: Issued) {
    seen.splice(0);
    await new Promise<void>((resolve, reject) => {
      const socket = connect({ host: '127.0.0.1', port, ca: hospitalA.ca.certPem, checkServerIdentity: () => undefined, ...(client ? { cert: client.certPem, key: client.keyPem } : {}) });
      socket.on('error', reject);
      socket.on('close', () => resolve());
      socket.resume();
    });
    return seen[0];
  }

  it("accepts a client of the org's CA as a member", async () => {
    expect(await callerWith(await hospitalA.client('ehr'))).toMatchObject({ mspId: 'HospitalAMSP', role: 'member' });
  });

  it('reads the role from the medbridge.role attribute first, then the admin OU', async () => {
    expect(await callerWith(await hospitalA.client('dr', { attributes: { 'medbridge.role': 'clinician' } }))).toMatchObject({ role: 'clinician' });
    expect(await callerWith(await hospitalA.admin('admin'))).toMatchObject({ role: 'admin' });
  });

  it("refuses another org's certificate and no certificate (UNAUTHORIZED, 401)", async () => {
    expect(await callerWith(await hospitalC.client('ehr'))).toEqual({ code: 'UNAUTHORIZED', status: 401 });
    expect(await callerWith()).toEqual({ code: 'UNAUTHORIZED', status: 401 });
  });

  it('refuses a peer certificate of the org: it has no caller role (FORBIDDEN_ROLE, 403)', async () => {
    expect(await callerWith(await hospitalA.peer('peer0'))).toEqual({ code: 'FORBIDDEN_ROLE', status: 403 });
  });
});
