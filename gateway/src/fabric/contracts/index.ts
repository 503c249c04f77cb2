/**
 * The typed way into the medbridge chaincode: `Chaincode` (one channel, one org) with a
 * client per contract, the chaincode's events, and the helpers for absent values and pages.
 */
export { Chaincode, type Subscription } from './chaincode';
export { ConsentClient, ConsentTransactions } from './consent';
export { batchStatement, CrossChainClient, CrossChainTransactions, statementCall, type SendItem, type StatementQuery } from './crosschain';
export { GovernanceClient, GovernanceTransactions } from './governance';
export { IncentiveClient, IncentiveTransactions } from './incentive';
export { SystemClient, SystemTransactions } from './system';
export { allPages, ContractClient, orAbsent, pageArgs, type ContractName, type Mode, type NamesIn, type SubmitOptions, type Submitted, type TransactionTable } from './contract';
export { ArrivalEvents, openEvents, SettlementEvents, toChaincodeEvent, toChaincodeEvents, type ChaincodeEvent, type EventOptions, type EventStream } from './events';
