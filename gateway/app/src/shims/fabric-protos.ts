/**
 * Fabric's protobufs stand in for nothing on the patient's page: only the endorsement scheme's
 * proof decoder uses them, and a browser never decodes a proof. Any use fails loudly.
 */
const absent = new Proxy(
  {},
  {
    get(_t, name) {
      throw new Error(`Fabric protobuf ${String(name)} is not available in the patient app`);
    },
  },
);
export const common = absent;
export const msp = absent;
export const peer = absent;
