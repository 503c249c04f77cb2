/**
 * The medbridge chaincode. `contracts` is what fabric-shim's server loads; each contract
 * is a thin transaction surface over the pure rules in `rules/` and `protocol/`.
 */
import { SystemContract } from './contracts/system-contract';
import { ConsentContract } from './contracts/consent-contract';
import { GovernanceContract } from './contracts/governance-contract';
import { CrossChainContract } from './contracts/crosschain-contract';
import { IncentiveContract } from './contracts/incentive-contract';
import { registerIncentiveHooks } from './contracts/incentive-hooks';

export { SystemContract };
export { ConsentContract };
export { GovernanceContract, CrossChainContract };
export { IncentiveContract };

// Fees, rewards and refunds move inside CrossChain's own transactions.
registerIncentiveHooks();
export const contracts: unknown[] = [SystemContract, ConsentContract, GovernanceContract, CrossChainContract, IncentiveContract];
