// Prints the single summary line CI reads ("N passed, N failed") from vitest's JSON report.
import { readFileSync } from 'node:fs';

// Usage: summarize-tests.mjs REPORT [failed-check ...] (checks outside vitest, e.g. the formatter).
const [file, ...otherFailures] = process.argv.slice(2);
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
for (const check of otherFailures) console.log(`check failed: ${check}`);
let failed = (report.numFailedTests ?? 0) + brokenFiles.length + otherFailures.length;
// e.g. the global teardown found leftovers of the test world: a failure no single test owns.
if (report.success === false && failed === 0) {
  console.log('vitest reported a failure outside the tests (global setup or teardown)');
  failed = 1;
}
const skipped = (report.numPendingTests ?? 0) + (report.numTodoTests ?? 0);
console.log(`${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
process.exit(failed > 0 || passed === 0 ? 1 : 0);
