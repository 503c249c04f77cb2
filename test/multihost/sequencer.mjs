// The order of the multi-host suites (network/scripts/multihost.sh test): the base suite first,
// then path B (a new chain by trust bundles), then path A (a new member of chain-a by a channel
// configuration update), because path A changes chain-a's membership: from then on HospitalE is
// one of chain-a's member orgs, and the suites before it are written for the bootstrap members.
import sequencer from '@jest/test-sequencer';

const Sequencer = sequencer.default ?? sequencer;
const ORDER = ['multihost.test.ts', 'join.test.ts', 'join-chain.test.ts'];
const rank = (path) => {
  const i = ORDER.findIndex((name) => path.endsWith(`/${name}`));
  return i === -1 ? ORDER.length : i;
};

export default class MultihostSequencer extends Sequencer {
  sort(tests) {
    return [...tests].sort((a, b) => rank(a.path) - rank(b.path) || a.path.localeCompare(b.path));
  }
}
