// The Providers page: the gateway's routes (none in the e2e configuration) and the
// organisation's own providers, added through the hydrated form with an API key that is
// stored encrypted and never shown again, then deleted.
import { test, expect } from '@playwright/test';
import { hydrated, signIn } from './session';

test('an owner adds a provider whose key is never shown, then deletes it', async ({ page }) => {
  await signIn(page);
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Providers' }).click();
  await expect(page).toHaveURL(/\/providers$/);
  await hydrated(page);
  await expect(page.getByRole('region', { name: 'Routes' }).getByText('No routes are configured.')).toBeVisible();

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
