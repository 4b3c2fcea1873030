// How long a generation's events take from being stored to being shown in the page, in
// Chromium: for each step of each generation, the time its line first appears in the page's
// timeline (a MutationObserver's Date.now()) minus the step's `started_at`, which the server
// stores in the transaction that stores its `step_started` event. Both clocks are this
// machine's. Steps that started before the page's event stream was open (the page was still
// loading: their events arrive as the stream's replay) are counted apart from those that
// started while it was open. Prints p50, p90, p99 and max in milliseconds.
//
//   QL_BENCH_URL=http://127.0.0.1:3107 QL_BENCH_RUNS=10 node bench/event-latency.mjs
import { chromium } from '@playwright/test';

const base = process.env.QL_BENCH_URL ?? 'http://127.0.0.1:3107';
const runs = Math.min(Number(process.env.QL_BENCH_RUNS ?? 10), 100);
const description =
  'A library where members borrow books. Books have a title, an author and an ISBN. Members have a name and an email.';

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM_PATH || '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run'],
});
const page = await browser.newPage({ baseURL: base });
const hydrated = () => page.locator('body[data-hydrated="true"]').waitFor({ state: 'attached' });
await page.goto('/login');
await hydrated();
await page.getByRole('button', { name: 'Continue as local user' }).click();
await page.waitForURL(/\/$/);

const latencies = [];
const replayed = [];
const byStep = {};
for (let run = 0; run < runs; run++) {
  await page.goto('/new');
  await hydrated();
  // The page moves to the generation without a reload, so the observer sees every step.
  await page.evaluate(() => {
    const seen = {};
    window.__stepSeen = seen;
    window.__streamOpen = undefined;
    const Original = window.EventSource;
    window.EventSource = class extends Original {
      constructor(...args) {
        super(...args);
        this.addEventListener('open', () => (window.__streamOpen ??= Date.now()));
      }
    };
    new MutationObserver(() => {
      for (const name of document.querySelectorAll('.step .step-name')) {
        seen[name.textContent] ??= Date.now();
      }
    }).observe(document.body, { childList: true, subtree: true });
  });
  const form = page.getByRole('region', { name: 'New app' });
  await form.getByLabel('Describe your app').fill(description);
  await form.getByLabel('Run its tests in the sandbox').uncheck();
  await form.getByRole('button', { name: 'Generate' }).click();
  await page.waitForURL(/\/generations\/[^/]+$/);
  await page
    .getByRole('region', { name: 'Generation' })
    .getByRole('status')
    .filter({ hasText: 'Succeeded' })
    .waitFor({ timeout: 60_000 });
  const id = new URL(page.url()).pathname.split('/').pop();
  const seen = await page.evaluate(() => window.__stepSeen);
  const open = await page.evaluate(() => window.__streamOpen);
  const status = await (await page.request.get(`/api/generations/${id}`)).json();
  for (const step of status.steps) {
    if (seen[step.step] === undefined) continue;
    const latency = seen[step.step] - step.started_at;
    (step.started_at >= open ? latencies : replayed).push(latency);
    (byStep[step.step] ??= []).push(latency);
  }
}
await browser.close();

const summary = (values) => {
  values.sort((a, b) => a - b);
  const at = (q) => values[Math.min(values.length - 1, Math.floor(q * values.length))];
  return `n ${values.length}  p50 ${at(0.5)}  p90 ${at(0.9)}  p99 ${at(0.99)}  max ${values.at(-1)}`;
};
console.log(`generations ${runs}`);
for (const [step, values] of Object.entries(byStep)) {
  values.sort((a, b) => a - b);
  console.log(`  ${step.padEnd(24)} median ${values[Math.floor(values.length / 2)]}  max ${values.at(-1)}`);
}
console.log(`stored → shown (ms), stream open:      ${summary(latencies)}`);
if (replayed.length) console.log(`stored → shown (ms), before it opened: ${summary(replayed)}`);
