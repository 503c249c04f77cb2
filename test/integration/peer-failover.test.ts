/**
 * An org's client keeps working while the peer it talks to is down (gateway/src/fabric/client.ts):
 * with HospitalA's peer0 stopped, a client opened on peer0 evaluates and submits through
 * HospitalA's peer1, and the transaction commits on chain-a. Native runtime only: it stops the
 * peer process by its pid file; `network.sh up` starts it again.
 */
import { FabricClient } from '../../gateway/src/fabric/client';
import { Chaincode } from '../../gateway/src/fabric/contracts';
import { nativePid, processAlive, restartMissingNodes } from './support/network';
import { waitFor } from './support/polling';

const RUNTIME = process.env.FABRIC_RUNTIME || 'native';
const PEER0 = 'peer0.hospitala.net1.medbridge';
const suite = RUNTIME === 'native' ? describe : describe.skip;
const name =
  RUNTIME === 'native'
    ? 'org client with its first peer down'
    : `org client with its first peer down (skipped: stops a peer process by its pid file, which needs FABRIC_RUNTIME=native; this run uses ${RUNTIME})`;

suite(name, () => {
  let client: FabricClient | undefined;

  afterAll(() => {
    client?.close();
    if (!processAlive(nativePid(PEER0))) restartMissingNodes();
  });

  it('evaluates and submits through the org\'s other peer, and the transaction commits', async () => {
    const pid = nativePid(PEER0);
    expect(processAlive(pid)).toBe(true);
    process.kill(pid as number, 'SIGTERM');
    await waitFor('HospitalA peer0 stopped', () => !processAlive(pid), 30_000);

    client = FabricClient.open('HospitalA');
    expect(client.peerIndex).toBe(0);
    const cc = new Chaincode(client, 'chain-a');
    const ping = await cc.system.ping();
    expect(ping.mspId).toBe('HospitalAMSP');
    expect(client.peerIndex).toBe(1);

    const note = `peer failover ${Date.now().toString(36)}`;
    const beat = await cc.system.heartbeat(note);
    expect(beat.result).toMatchObject({ mspId: 'HospitalAMSP', note, txId: beat.txId });

    // chain-a's other member reads the committed write from its own peer.
    const other = FabricClient.open('HospitalC');
    try {
      // HospitalA's submit returned when HospitalA's peer committed; HospitalC's peer may commit the block a moment later.
      const seen = await waitFor('HospitalC reads the heartbeat', async () => {
        const last = await new Chaincode(other, 'chain-a').system.lastHeartbeat('HospitalAMSP');
        return last?.txId === beat.txId ? last : undefined;
      }, 15_000);
      expect(seen).toMatchObject({ note, txId: beat.txId });
    } finally {
      other.close();
    }

    restartMissingNodes();
    expect(processAlive(nativePid(PEER0))).toBe(true);
  });
});
