// Added to github.com/hyperledger/fabric/orderer/consensus/etcdraft when medbridge builds the
// orderer (network/scripts/fabric-bin.sh, patched copy of the module; see network/fabric/patches/README.md).
//
// Fabric 2.5.0 can deadlock a restarted orderer (hyperledger/fabric#4199): node.run hands the
// next Ready to the chain over an unbuffered channel while the chain, still applying the
// previous batch, waits on WALSyncC, which only node.run serves. The restarted node then never
// acknowledges its leader again and stays behind on that channel. These hand-overs keep serving
// WAL sync requests while they wait, so neither side can block the other.

package etcdraft

// syncWAL is node.run's WALSyncC case.
func (n *node) syncWAL() {
	if err := n.storage.Sync(); err != nil {
		n.logger.Warnf("Failed to sync raft log, error: %s", err)
	}
}

// handOver gives v to the chain over ch (applyC or snapC), serving WAL syncs meanwhile.
func handOver[T any](n *node, ch chan<- T, v T) {
	for {
		select {
		case ch <- v:
			return
		case <-n.storage.WALSyncC:
			n.syncWAL()
		}
	}
}
