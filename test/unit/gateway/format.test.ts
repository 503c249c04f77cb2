import { cellText, formatObject, formatTable, toJson } from '../../../gateway/src/cli/format';

describe('CLI output formatting', () => {
  it('aligns columns under upper-case headers, padding every column but the last', () => {
    const out = formatTable(
      [
        { id: 'a', org: 'HospitalAMSP', allowed: true },
        { id: 'bbbb', org: 'B', allowed: false },
      ],
      [{ key: 'id' }, { key: 'org' }, { key: 'allowed' }],
    );
    expect(out.split('\n')).toEqual(['ID    ORG           ALLOWED', 'a     HospitalAMSP  true', 'bbbb  B             false']);
  });

  it('reaches nested values with dotted keys and shows times as ISO dates', () => {
    const out = formatTable([{ terms: { period: { end: 0 } } }], [{ key: 'terms.period.end', header: 'until', as: 'time' }]);
    expect(out).toBe('UNTIL\n1970-01-01T00:00:00.000Z');
  });

  it('says (none) for an empty list and clips long cells with an ellipsis', () => {
    expect(formatTable([])).toBe('(none)');
    expect(formatTable([{ h: 'abcdefghij' }], [{ key: 'h', max: 5 }])).toBe('H\nabcd…');
  });

  it('prints an object as key/value lines with nested keys flattened', () => {
    expect(formatObject({ a: 1, nested: { b: 'x', c: [1, 2] } })).toBe('a         1\nnested.b  x\nnested.c  1,2');
  });

  it('renders cells of every type without throwing', () => {
    expect(cellText(undefined)).toBe('');
    expect(cellText(10n)).toBe('10');
    expect(cellText({ k: 1 })).toBe('{"k":1}');
  });

  it('writes bigint as string in JSON output', () => {
    expect(JSON.parse(toJson({ block: 12n }))).toEqual({ block: '12' });
  });
});
