// The live workspace: describe an app, generate it on the workers, watch the steps and the
// file tree fill from the event stream, reload while its tests run in the sandbox and keep
// following, read a file, download the capsule and check its hash against the header.
import { test, expect } from '@playwright/test';
import { execFileSync } from 'child_process';
import { createHash } from 'crypto';
import { readFileSync } from 'fs';
import { generateApp, hydrated, signIn } from './session';

const LIBRARY =
  'A library where members borrow books. Books have a title, an author and an ISBN. Members have a name and an email.';

test('an app is generated live, followed across a reload, read and downloaded', async ({ page }) => {
  test.setTimeout(240_000);
  // Every request the pages make, to check where the editor comes from and where it does not.
  const requested: string[] = [];
  page.on('request', (request) => requested.push(request.url()));
  await signIn(page);
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'New app' }).click();
  await expect(page).toHaveURL(/\/new$/);
  await hydrated(page);
  const form = page.getByRole('region', { name: 'New app' });
  // The spec is read back before anything is generated; a description with nothing to keep
  // track of is answered in words.
  const preview = form.getByRole('region', { name: 'Spec' });
  await form.getByLabel('Describe your app').fill('hello there');
  await form.getByRole('button', { name: 'Preview spec' }).click();
  await expect(preview.getByRole('alert')).toContainText('keep track of');
  await form.getByLabel('Describe your app').fill(LIBRARY);
  await form.getByRole('button', { name: 'Preview spec' }).click();
  const book = preview.getByRole('group', { name: 'Entity book' });
  await expect(book.getByLabel('Entity name')).toHaveValue('book');
  await expect(book.getByRole('group', { name: 'Field isbn' }).getByLabel('Field name')).toHaveValue('isbn');
  const member = preview.getByRole('group', { name: 'Entity member' });
  await expect(member).toBeVisible();
  await form.getByLabel('Stack').selectOption('python-fastapi');
  await form.getByLabel('Model').selectOption('builtin');
  await expect(form.getByLabel('Run its tests in the sandbox')).toBeChecked();

  // The spec is corrected before any code is written: books also count their copies, and
  // the reader is called a patron. A spec that cannot be built is refused in words.
  await book.getByRole('button', { name: 'Add a field to book' }).click();
  await book.getByRole('group', { name: /^Field$/ }).getByLabel('Field name').fill('Copies');
  await book.getByRole('group', { name: 'Field Copies' }).getByLabel('Type').selectOption('integer');
  // A nameless entity is stopped by the browser at the empty box; a field named `id` by the
  // server, with its reason.
  await member.getByLabel('Entity name').fill('');
  await form.getByRole('button', { name: 'Generate' }).click();
  const nameless = preview.getByRole('group', { name: /^Entity$/ }).getByLabel('Entity name');
  expect(await nameless.evaluate((input: HTMLInputElement) => input.validity.valueMissing)).toBe(true);
  await expect(page).toHaveURL(/\/new$/);
  await nameless.fill('Patron');
  await book.getByRole('group', { name: 'Field Copies' }).getByLabel('Field name').fill('ID');
  await form.getByRole('button', { name: 'Generate' }).click();
  await expect(form.getByRole('alert').filter({ hasText: 'every app adds `id` itself' })).toBeVisible();
  await book.getByRole('group', { name: 'Field ID' }).getByLabel('Field name').fill('Copies');
  await expect(preview.getByRole('group', { name: 'Actions' })).toContainText('Patron can borrow a book');
  await preview.getByRole('button', { name: 'Add relation' }).click();
  const relation = preview.getByRole('group', { name: 'Relation' }).last();
  await relation.getByLabel('From').selectOption({ label: 'book' });
  await relation.getByLabel('To').selectOption({ label: 'Patron' });
  await relation.getByLabel('required').uncheck();
  await page.screenshot({ path: 'test-results/new-app.png', fullPage: true });
  expect(requested.filter((url) => url.includes('/monaco/')), 'a page without an editor loads no Monaco').toEqual([]);
  expect(requested.filter((url) => url.includes('/pkg/split_') && url.includes('generation_page')), "the generation page's chunk waits for it").toEqual([]);
  await form.getByRole('button', { name: 'Generate' }).click();

  await expect(page).toHaveURL(/\/generations\/[^/]+$/);
  // What is generated is the corrected spec, not the description read again.
  const status = await (await page.request.get(`/api${new URL(page.url()).pathname}`)).json();
  const entities = Object.fromEntries(status.spec.entities.map((e: any) => [e.name, e]));
  expect(Object.keys(entities)).toContain('patron');
  expect(Object.keys(entities)).not.toContain('member');
  expect(entities.book.fields.find((f: any) => f.name === 'copies')?.type).toEqual({ kind: 'integer' });
  expect(status.spec.relations).toContainEqual({ kind: 'belongs_to', from: 'book', to: 'patron', required: false });
  expect(status.spec.actions).toContainEqual({ name: 'borrow', entity: 'book', actor: 'patron' });
  await hydrated(page);
  const steps = page.getByRole('region', { name: 'Steps' });
  await expect(steps.getByText('planner', { exact: true })).toBeVisible();
  const files = page.getByRole('region', { name: 'Files' });
  await expect(files.getByRole('button', { name: 'app/main.py' })).toBeVisible();
  // The tests run in the sandbox for several seconds: reload meanwhile.
  await expect(steps.getByText('tester', { exact: true })).toBeVisible({ timeout: 60_000 });
  await page.reload();
  await hydrated(page);
  await expect(steps.getByText('coder:shared', { exact: true })).toBeVisible();
  const head = page.getByRole('region', { name: 'Generation' });
  await expect(head.getByRole('status')).toHaveText('Succeeded', { timeout: 180_000 });
  await expect(steps.locator('.step-succeeded')).toHaveCount(await steps.locator('.step').count());
  await expect(page.getByRole('region', { name: 'Tests' })).toContainText(/\d+ passed, 0 failed/);

  await files.getByRole('button', { name: 'app/main.py' }).click();
  await expect(files.getByRole('button', { name: 'app/main.py' })).toHaveAttribute('aria-pressed', 'true');
  const code = page.getByRole('region', { name: 'Code' });
  await expect(code.locator('.monaco-editor .view-lines')).toContainText('FastAPI');
  // Finished, so its files can be edited.
  await expect(code.locator('.editor-host')).toHaveAttribute('data-read-only', 'false');
  // Python is highlighted: keywords, strings and names get token classes of their own (Monaco
  // colours the lines shortly after it shows them, so this waits for the colours).
  const tokenClasses = () =>
    code
      .locator('.view-lines span[class^="mtk"]')
      .evaluateAll((spans) => new Set(spans.map((span) => span.className)).size);
  await expect.poll(tokenClasses, { message: 'more than one token colour', timeout: 10_000 }).toBeGreaterThan(2);
  const origin = new URL(page.url()).origin;
  const monaco = requested.filter((url) => url.includes('/monaco/vs/'));
  expect(monaco.length, 'Monaco is loaded on the generation page').toBeGreaterThan(0);
  expect(requested.filter((url) => url.includes('/pkg/split_') && url.includes('generation_page')).length, 'its own wasm chunk too').toBeGreaterThan(0);
  expect(requested.filter((url) => !url.startsWith(origin) && !url.startsWith('data:') && !url.startsWith('blob:')), 'nothing comes from another origin').toEqual([]);
  await page.screenshot({ path: 'test-results/generation.png', fullPage: true });

  const link = head.getByRole('link', { name: 'Download capsule' });
  const download = page.waitForEvent('download');
  await link.click();
  const bytes = readFileSync(await (await download).path());
  const href = await link.getAttribute('href');
  const response = await page.request.get(href!);
  expect(response.status()).toBe(200);
  expect(response.headers()['x-ql-sha256']).toBe(createHash('sha256').update(bytes).digest('hex'));
});

test('the spec editor reads at a phone\'s width', async ({ page }) => {
  await page.setViewportSize({ width: 390, height: 800 });
  await signIn(page);
  await page.goto('/new');
  await hydrated(page);
  const form = page.getByRole('region', { name: 'New app' });
  await form.getByLabel('Describe your app').fill(LIBRARY);
  await form.getByRole('button', { name: 'Preview spec' }).click();
  await expect(form.getByRole('group', { name: 'Entity book' })).toBeVisible();
  const width = await page.evaluate(() => document.documentElement.scrollWidth);
  expect(width).toBeLessThanOrEqual(390);
  await page.screenshot({ path: 'test-results/new-app-narrow.png', fullPage: true });
});

test('the generation view reads at a phone\'s width', async ({ page }) => {
  await page.setViewportSize({ width: 390, height: 800 });
  await signIn(page);
  await generateApp(page, LIBRARY);
  const width = await page.evaluate(() => document.documentElement.scrollWidth);
  expect(width).toBeLessThanOrEqual(390);
  await page.screenshot({ path: 'test-results/generation-narrow.png', fullPage: true });
});

test('a generated file is edited as versions, checked as typed, compared and restored', async ({ page }) => {
  test.setTimeout(120_000);
  await signIn(page);
  await generateApp(page, LIBRARY);
  await page.getByRole('region', { name: 'Files' }).getByRole('button', { name: 'app/main.py' }).click();
  const code = page.getByRole('region', { name: 'Code' });
  const host = code.locator('.editor-host');
  const saveState = code.getByRole('status', { name: 'Save state' });
  await expect(host).toHaveAttribute('data-read-only', 'false');
  await expect(saveState).toHaveText('Version 1');
  await expect(host).toHaveAttribute('data-editor', 'ready');
  const original = await page.evaluate(() => (window as any).monaco.editor.getModels().map((m: any) => m.getValue()));

  // Typing saves a new version after a pause and re-analyses the text: eval of input is a
  // security finding, drawn as a marker within a second.
  await code.locator('.monaco-editor .view-lines').click();
  await page.keyboard.press('Control+End');
  await page.keyboard.press('Enter');
  await page.keyboard.insertText('payload = eval(input())');
  await expect(saveState).toHaveText('Saved · version 2', { timeout: 10_000 });
  await expect
    .poll(
      () =>
        page.evaluate(() =>
          (window as any).monaco.editor
            .getModelMarkers({})
            .filter((marker: any) => marker.message.includes('eval'))
            .map((marker: any) => marker.startLineNumber),
        ),
      { timeout: 5_000 },
    )
    .toHaveLength(1);
  await expect(code.locator('.monaco-editor .squiggly-error, .monaco-editor .squiggly-warning').first()).toBeAttached();
  // The problems list follows the same analysis: the typed line is listed under its file.
  const problems = page.getByRole('region', { name: 'Problems' });
  await expect(problems.getByRole('listitem').filter({ hasText: /app\/main\.py:\d+ — .*eval/ })).toHaveCount(1);

  const history = page.getByRole('region', { name: 'History' });
  await expect(history.getByText('Version 2', { exact: true })).toBeVisible();
  await expect(history.getByText('Version 1', { exact: true })).toBeVisible();
  await history.getByRole('button', { name: 'Compare version 1 with version 2' }).click();
  const diff = history.getByRole('table', { name: 'Version 1 against version 2' });
  await expect(diff.locator('.diff-added .diff-new')).toContainText(['payload = eval(input())']);
  await page.screenshot({ path: 'test-results/generation-history.png', fullPage: true });

  // A reload shows the saved version.
  await page.reload();
  await hydrated(page);
  await page.getByRole('region', { name: 'Files' }).getByRole('button', { name: 'app/main.py' }).click();
  await expect(saveState).toHaveText('Version 2');
  await expect(host).toHaveAttribute('data-editor', 'ready');
  const shown = () =>
    page.evaluate(() => ((window as any).monaco?.editor?.getModels() ?? []).map((m: any) => m.getValue()).join(''));
  await expect.poll(shown).toContain('payload = eval(input())');

  // The capsule downloaded now is a new one with the edit in it, its hash in the header.
  const link = page.getByRole('region', { name: 'Generation' }).getByRole('link', { name: 'Download capsule' });
  const download = page.waitForEvent('download');
  await link.click();
  const file = await download;
  expect(file.suggestedFilename()).toMatch(/-edited-[0-9a-f]{12}\.zip$/);
  const archive = await file.path();
  const readEntry = 'import sys, zipfile; print(zipfile.ZipFile(sys.argv[1]).read(sys.argv[2]).decode())';
  expect(execFileSync('python3', ['-c', readEntry, archive, 'app/main.py']).toString()).toContain(
    'payload = eval(input())',
  );
  const response = await page.request.get((await link.getAttribute('href'))!);
  expect(response.headers()['x-ql-sha256']).toBe(createHash('sha256').update(readFileSync(archive)).digest('hex'));

  // Restoring version 1 makes it version 3, with the generated text back.
  await history.getByRole('button', { name: 'Restore version 1' }).click();
  await expect(saveState).toHaveText('Saved · version 3');
  await expect(history.getByText('restored version 1', { exact: false })).toBeVisible();
  await expect.poll(shown).not.toContain('payload = eval(input())');
  const restored = await page.evaluate(() => (window as any).monaco.editor.getModels().map((m: any) => m.getValue()));
  expect(original).toContain(restored[0]);
});

test('an app is refined by an instruction and its changes accepted or rejected file by file', async ({ page }) => {
  test.setTimeout(150_000);
  await signIn(page);
  const parent = await generateApp(page, 'Track expenses: each expense has an amount and a note.');
  const refine = page.getByRole('region', { name: 'Refine' });
  await refine.getByLabel('What should change?').fill('Expenses also have a category.');
  await refine.getByRole('button', { name: 'Refine' }).click();
  await expect(page).not.toHaveURL(new RegExp(`${parent}$`));
  await expect(page).toHaveURL(/\/generations\/[^/]+$/);
  await hydrated(page);
  await expect(page.getByRole('region', { name: 'Generation' }).getByRole('status')).toHaveText('Succeeded', {
    timeout: 60_000,
  });
  await expect(page.getByText('Refines an earlier generation')).toBeVisible();

  const review = page.getByRole('region', { name: 'Review the refinement' });
  await expect(review).toContainText('“Expenses also have a category.” changed');
  const files = review.locator('.refined-file');
  await expect(files.first()).toBeVisible();
  expect(await files.count()).toBeGreaterThanOrEqual(2);
  const paths = await review.locator('.refined-path').allTextContents();
  const [accepted, rejected] = paths;

  // Each change reads as a diff; the category is in the proposal.
  await review.getByText(`Show the changes to ${accepted}`).click();
  await expect(review.getByRole('table', { name: `${accepted}: earlier text against the refinement` })).toContainText(
    'category',
  );
  await review.getByRole('button', { name: `Accept ${accepted}` }).click();
  await expect(review.getByRole('status', { name: `Decision on ${accepted}` })).toHaveText('Accepted');
  await review.getByRole('button', { name: `Reject ${rejected}` }).click();
  await expect(review.getByRole('status', { name: `Decision on ${rejected}` })).toHaveText('Rejected');
  await page.screenshot({ path: 'test-results/refinement.png', fullPage: true });

  // The rejected file holds the earlier generation's text again, as a new version.
  await page.getByRole('region', { name: 'Files' }).getByRole('button', { name: rejected }).click();
  const code = page.getByRole('region', { name: 'Code' });
  await expect(code.getByRole('status', { name: 'Save state' })).toHaveText(/version 2/);
  await expect(code.locator('.editor-host')).toHaveAttribute('data-editor', 'ready');
  const shown = () => page.evaluate(() => (window as any).monaco.editor.getEditors()[0].getValue());
  await expect.poll(shown).not.toContain('category');

  // Decisions are kept: a reload shows them.
  await page.reload();
  await hydrated(page);
  await expect(review.getByRole('status', { name: `Decision on ${accepted}` })).toHaveText('Accepted');
  await expect(review.getByRole('status', { name: `Decision on ${rejected}` })).toHaveText('Rejected');
});
