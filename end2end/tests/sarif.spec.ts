// `quantumlayer analyze --format sarif` is valid SARIF 2.1.0 by the official schema, with what
// GitHub code scanning needs: rule ids, relative URIs, regions and known levels.
import { test, expect } from '@playwright/test';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import Ajv from 'ajv-draft-04';

const schemaPath = join(
  dirname(require.resolve('@microsoft/jest-sarif/package.json')),
  'lib/schemas/sarif-2.1.0-rtm.5.json',
);

function project(): string {
  const dir = mkdtempSync(join(tmpdir(), 'ql-sarif-'));
  mkdirSync(join(dir, 'app'));
  writeFileSync(join(dir, 'app/run.py'), "import os\n\ndef run(p):\n    os.system('ls ' + p)\n");
  writeFileSync(join(dir, 'app/db.js'), "db.query(`SELECT * FROM t WHERE id = ${id}`);\n");
  writeFileSync(join(dir, 'app/ok.rs'), 'fn ok() -> u32 {\n    1\n}\n');
  return dir;
}

test('SARIF output validates against the SARIF 2.1.0 schema', async () => {
  const dir = project();
  const output = execFileSync(process.env.QL_E2E_BIN!, ['analyze', '.', '--format', 'sarif'], { cwd: dir });
  const log = JSON.parse(output.toString());
  // The schema's `language` pattern has a stray `]` that only non-unicode regexps accept.
  const ajv = new Ajv({ strict: false, validateFormats: false, allErrors: true, unicodeRegExp: false });
  const validate = ajv.compile(JSON.parse(readFileSync(schemaPath, 'utf8')));
  const valid = validate(log);
  expect(validate.errors ?? []).toEqual([]);
  expect(valid).toBe(true);

  const run = log.runs[0];
  const rules = run.tool.driver.rules.map((r: { id: string }) => r.id).sort();
  expect(rules).toEqual(['py.os-system', 'sql.built-query']);
  for (const result of run.results) {
    expect(run.tool.driver.rules[result.ruleIndex].id).toBe(result.ruleId);
    expect(['error', 'warning', 'note']).toContain(result.level);
    const location = result.locations[0].physicalLocation;
    expect(location.artifactLocation.uri).toMatch(/^app\/(run\.py|db\.js)$/);
    expect(location.region.startLine).toBeGreaterThan(0);
  }
});
