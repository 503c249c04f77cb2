import { CommitError, EndorseError, GatewayError } from '@hyperledger/fabric-gateway';
import type { ServiceError } from '@grpc/grpc-js';
import { ClientError, ExitCodes, toClientError } from '../../../gateway/src/errors';

function serviceError(code: number, message: string): ServiceError {
  return Object.assign(new Error(message), { code, details: message, metadata: {} }) as unknown as ServiceError;
}

function endorseError(code: number, message: string, details: Array<{ address: string; mspId: string; message: string }>) {
  return new EndorseError({ code, details, cause: serviceError(code, message), transactionId: 'tx1', message });
}

describe('toClientError', () => {
  it("recovers the chaincode's own code and message from a peer's endorsement detail", () => {
    const err = toClientError(
      endorseError(10, '10 ABORTED: failed to endorse transaction, see attached details for more info', [
        { address: 'peer0:7051', mspId: 'HospitalAMSP', message: 'chaincode response 500, CONSENT_EXPIRED: consent cs_1 ended at 2026-01-01' },
      ]),
      { channel: 'chain-a', contract: 'Consent', fn: 'LogAccess' },
    );
    expect(err.code).toBe('CONSENT_EXPIRED');
    expect(err.message).toBe('consent cs_1 ended at 2026-01-01');
    expect(err.kind).toBe('rejected');
    expect(err.exitCode).toBe(ExitCodes.rejected);
    expect(err.txId).toBe('tx1');
    expect(err.peers).toHaveLength(1);
  });

  it('reads the code from an evaluate error message when there are no details', () => {
    const err = toClientError(
      new GatewayError({ code: 2, details: [], cause: serviceError(2, 'x'), message: '2 UNKNOWN: evaluate call to endorser returned error: chaincode response 500, NOT_FOUND: record r1' }),
    );
    expect(err.code).toBe('NOT_FOUND');
    expect(err.message).toBe('record r1');
  });

  it('says the peer is unreachable and how to check the network on UNAVAILABLE, with exit code 4', () => {
    const err = toClientError(new GatewayError({ code: 14, details: [], cause: serviceError(14, '14 UNAVAILABLE: No connection established') }), {
      channel: 'chain-a',
      contract: 'System',
      fn: 'Ping',
      endpoint: '127.0.0.1:7051',
    });
    expect(err.code).toBe('UNAVAILABLE');
    expect(err.message).toBe('System:Ping on chain-a: peer 127.0.0.1:7051 unreachable');
    expect(err.hint).toMatch(/make network-status/);
    expect(err.exitCode).toBe(ExitCodes.unavailable);
  });

  it('treats a deadline as a network failure (TIMEOUT, exit 4)', () => {
    const err = toClientError(new GatewayError({ code: 4, details: [], cause: serviceError(4, '4 DEADLINE_EXCEEDED') }));
    expect(err.code).toBe('TIMEOUT');
    expect(err.exitCode).toBe(4);
  });

  it('maps an endorsement failure for lack of reachable peers to UNAVAILABLE', () => {
    const err = toClientError(
      endorseError(10, '10 ABORTED: failed to endorse', [{ address: 'peer0.hospitalc:9051', mspId: 'HospitalCMSP', message: 'failed to connect: connection refused' }]),
    );
    expect(err.code).toBe('UNAVAILABLE');
    expect(err.hint).toMatch(/endorsing peers/);
    const planErr = toClientError(new GatewayError({ code: 9, details: [], cause: serviceError(9, 'x'), message: '9 FAILED_PRECONDITION: no combination of peers can be derived which satisfy the endorsement policy' }));
    expect(planErr.code).toBe('UNAVAILABLE');
    expect(planErr.exitCode).toBe(4);
  });

  it('maps endorsers that answered differently (a peer behind the others) to UNAVAILABLE, not INTERNAL', () => {
    const err = toClientError(
      endorseError(10, '10 ABORTED: failed to collect enough transaction endorsements', [
        { address: '127.0.0.1:9151', mspId: 'HospitalCMSP', message: 'ProposalResponsePayloads do not match' },
        { address: '127.0.0.1:9051', mspId: 'HospitalCMSP', message: 'ProposalResponsePayloads do not match' },
      ]),
      { channel: 'chain-b', contract: 'CrossChain', fn: 'GrantAndSend' },
    );
    expect(err.code).toBe('UNAVAILABLE');
    expect(err.kind).toBe('unavailable');
    expect(err.message).toBe('CrossChain:GrantAndSend on chain-b: the endorsing peers answered differently (one is behind the others); nothing was ordered');
    expect(err.hint).toMatch(/catching up/);
    expect(err.exitCode).toBe(ExitCodes.unavailable);
  });

  it('names a commit that failed validation with its status and a next step', () => {
    const err = toClientError(new CommitError({ code: 11, transactionId: 'tx9', message: 'x' }), { channel: 'chain-b', contract: 'CrossChain', fn: 'ReceivePacket' });
    expect(err.code).toBe('COMMIT_FAILED');
    expect(err.message).toBe('CrossChain:ReceivePacket on chain-b: transaction tx9 was not committed: MVCC_READ_CONFLICT');
    expect(err.hint).toMatch(/again/);
    expect(err.exitCode).toBe(3);
  });

  it('reports an unknown contract function as a chaincode error, not as gRPC noise', () => {
    const err = toClientError(
      new GatewayError({ code: 2, details: [], cause: serviceError(2, 'x'), message: '2 UNKNOWN: evaluate call to endorser returned error: chaincode response 500, You\'ve asked to invoke a function that does not exist: Nope' }),
      { contract: 'System', fn: 'Nope', channel: 'chain-a' },
    );
    expect(err.code).toBe('CHAINCODE_ERROR');
    expect(err.message).toBe("System:Nope on chain-a: evaluate call to endorser returned error: You've asked to invoke a function that does not exist: Nope");
    expect(err.exitCode).toBe(3);
  });

  it('turns a profile problem into a usage error (exit 2)', () => {
    const e = Object.assign(new Error('no connection profile for org "X"'), { code: 'PROFILE_ERROR' });
    const err = toClientError(e);
    expect(err.code).toBe('PROFILE_ERROR');
    expect(err.exitCode).toBe(ExitCodes.usage);
  });

  it('passes a ClientError through unchanged and serialises it without undefined fields', () => {
    const original = new ClientError('RECORD_HASH_MISMATCH', 'rejected', 'bad', { txId: 't' });
    expect(toClientError(original)).toBe(original);
    expect(original.toJSON()).toEqual({ code: 'RECORD_HASH_MISMATCH', kind: 'rejected', message: 'bad', txId: 't' });
  });

  it('recognises a medbridge wire error inside a plain Error', () => {
    const err = toClientError(new Error('PACKET_REPLAYED: packet chain-a/chain-b/7 was already received'));
    expect(err.code).toBe('PACKET_REPLAYED');
    expect(err.kind).toBe('rejected');
  });
});
