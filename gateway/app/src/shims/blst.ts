// The aggregate scheme's native backend (@chainsafe/blst, a Node-API module) cannot load in a
// browser; the protocol module's backend chooser catches this and keeps its pure-JS backend.
// A patient's page never verifies or signs BLS anyway.
throw new Error('@chainsafe/blst is a Node-API module: not available in a browser');
