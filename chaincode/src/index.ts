/**
 * The medbridge chaincode. `contracts` is what fabric-shim's server loads; each contract
 * is a thin transaction surface over the pure rules in `rules/` and `protocol/`.
 */
import { SystemContract } from './contracts/system-contract';
import { ConsentContract } from './contracts/consent-contract';

export { SystemContract };
export { ConsentContract };
export const contracts: unknown[] = [SystemContract, ConsentContract];
