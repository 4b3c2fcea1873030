// The Providers page: the gateway's routes (only the always-present `builtin` one in the e2e
// configuration), the organisation's own routes, and its own providers, added through the
// hydrated form with an API key that is stored encrypted and never shown again, then deleted.
import { test, expect } from '@playwright/test';
import { hydrated, signIn } from './session';

test('an owner adds a provider whose key is never shown, then deletes it', async ({ page }) => {
  await signIn(page);
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Providers' }).click();
  await expect(page).toHaveURL(/\/providers$/);
  await hydrated(page);
  const builtin = page.getByRole('table', { name: 'Route targets' }).getByRole('row').filter({ hasText: 'builtin' });
  await expect(builtin).toContainText('healthy');

  const name = `groq${Date.now()}`;
  const secret = 'gsk-e2e-secret-value-123';
  const form = page.getByRole('region', { name: 'Your providers' });
  await form.getByLabel('Name').fill(name);
  await form.getByLabel('Base URL').fill('https://api.groq.com/openai/v1');
  await form.getByLabel('Models').fill('llama-3.1-8b-instant, llama-3.3-70b-versatile');
  await form.getByLabel('API key').fill(secret);
  await form.getByRole('button', { name: 'Add provider' }).click();

  const table = page.getByRole('table', { name: 'Providers' });
  const row = table.getByRole('row').filter({ hasText: name });
  await expect(row).toContainText('stored, encrypted');
  await expect(row).toContainText('llama-3.1-8b-instant, llama-3.3-70b-versatile');
  await page.reload();
  await expect(table.getByRole('row').filter({ hasText: name })).toBeVisible();
  expect(await page.content()).not.toContain(secret);

  // A bad base URL is refused with a sentence.
  await form.getByLabel('Name').fill(`${name}x`);
  await form.getByLabel('Base URL').fill('ftp://example.com');
  await form.getByRole('button', { name: 'Add provider' }).click();
  await expect(form.getByRole('alert')).toContainText('http:// or https://');

  await table.getByRole('row').filter({ hasText: name }).getByRole('button', { name: 'Delete' }).click();
  await expect(table.getByRole('row').filter({ hasText: name })).toHaveCount(0);
});

test('an owner adds a route of the organisation over the builtin model, then deletes it', async ({ page }) => {
  await signIn(page);
  await page.goto('/providers');
  await hydrated(page);
  const region = page.getByRole('region', { name: 'Your routes' });
  const model = `team-fast-${Date.now()}`;

  // A target on a provider nobody has is refused with a sentence.
  await region.getByLabel('Model name').fill(model);
  await region.getByLabel('Targets').fill('nobody/gpt-4o');
  await region.getByRole('button', { name: 'Add route' }).click();
  await expect(region.getByRole('alert')).toContainText('no provider named `nobody`');

  await region.getByLabel('Strategy').selectOption('weighted');
  await region.getByLabel('Targets').fill('builtin/builtin*3');
  await region.getByRole('button', { name: 'Add route' }).click();
  const table = page.getByRole('table', { name: 'Your routes' });
  const row = table.getByRole('row').filter({ hasText: model });
  await expect(row).toContainText('weighted');
  await expect(row).toContainText('builtin/builtin*3');
  await page.reload();
  await expect(table.getByRole('row').filter({ hasText: model })).toBeVisible();

  await table.getByRole('row').filter({ hasText: model }).getByRole('button', { name: 'Delete' }).click();
  await expect(table.getByRole('row').filter({ hasText: model })).toHaveCount(0);
});
