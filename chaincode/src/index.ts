/**
 * The medbridge chaincode. `contracts` is what fabric-shim's server loads; each contract
 * is a thin transaction surface over the pure rules in `rules/` and `protocol/`.
 */
import { SystemContract } from './contracts/system-contract';

export { SystemContract };
export const contracts: unknown[] = [SystemContract];
