// Prints the single summary line CI reads ("N passed, N failed") from vitest's JSON report.
import { readFileSync } from 'node:fs';

const file = process.argv[2];
let report;
try {
  report = JSON.parse(readFileSync(file, 'utf8'));
} catch (err) {
  console.log(`could not read the test report ${file}: ${err.message}`);
  console.log('0 passed, 1 failed');
  process.exit(1);
}
const passed = report.numPassedTests ?? 0;
// Suites that failed to load count as failures: a broken file must never look green.
const brokenFiles = (report.testResults ?? []).filter(
  (result) =>
    result.status === 'failed' &&
    !(result.assertionResults ?? []).some((test) => test.status === 'failed'),
);
for (const file of brokenFiles)
  console.log(`test file failed outside any test: ${file.name}: ${file.message ?? ''}`);
const failed = (report.numFailedTests ?? 0) + brokenFiles.length;
const skipped = (report.numPendingTests ?? 0) + (report.numTodoTests ?? 0);
console.log(`${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
process.exit(failed > 0 || passed === 0 ? 1 : 0);
