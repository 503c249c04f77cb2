import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { paramViolations, parseParams } from '../../../chaincode/src/rules/parameter-safety';

/** The simulation's presets (chaincode/game/presets.json) and the chaincode's SetParams check must agree. */
const presets = JSON.parse(readFileSync(join(__dirname, '../../../chaincode/game/presets.json'), 'utf8')) as Record<string, { params: unknown }>;

describe('game presets against the chaincode parameter check', () => {
  it('the safe preset of `make game` is a parameter set SetParams accepts', () => {
    expect(paramViolations(parseParams(presets.safe!.params))).toEqual([]);
  });

  it('the unsafe preset of `make game` is refused for exactly the constraints the plot shows broken', () => {
    expect(paramViolations(parseParams(presets.unsafe!.params)).map((v) => v.constraint)).toEqual([
      'C1 signer participation',
      'C2 relayer participation',
      'C3 deterrence',
    ]);
  });
});
