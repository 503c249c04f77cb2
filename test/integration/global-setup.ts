// Filled in by the network harness: starts the embedded network once, or reuses a running one.
export default async function globalSetup(): Promise<void> {
  throw new Error('integration harness not written yet');
}
