// fabric-contract-api logs every decorator at load time; unit tests want only failures.
process.env.CORE_CHAINCODE_LOGGING_LEVEL = process.env.CORE_CHAINCODE_LOGGING_LEVEL ?? 'error';
