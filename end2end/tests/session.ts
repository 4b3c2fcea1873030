// Shared steps: waiting for hydration, and signing in as the local user.
import { expect, Page } from '@playwright/test';

export async function hydrated(page: Page) {
  await expect(page.locator('body[data-hydrated="true"]')).toBeAttached();
}

// Signs in with "Continue as local user" and waits on the hydrated dashboard.
export async function signIn(page: Page) {
  await page.goto('/');
  await expect(page).toHaveURL(/\/login$/);
  await hydrated(page);
  await page.getByRole('button', { name: 'Continue as local user' }).click();
  await expect(page).toHaveURL(/\/$/);
  await expect(page.getByRole('heading', { name: 'Dashboard' })).toBeVisible();
  await expect(page.locator('.topbar').getByText('Local mode')).toBeVisible();
  await hydrated(page);
}

// Describes an app on New app and generates it without running its tests; waits on its
// hydrated page until it has succeeded and returns that page's path.
export async function generateApp(page: Page, description: string): Promise<string> {
  await page.goto('/new');
  await hydrated(page);
  const form = page.getByRole('region', { name: 'New app' });
  await form.getByLabel('Describe your app').fill(description);
  await form.getByLabel('Run its tests in the sandbox').uncheck();
  await form.getByRole('button', { name: 'Generate' }).click();
  await expect(page).toHaveURL(/\/generations\/[^/]+$/);
  await hydrated(page);
  await expect(page.getByRole('region', { name: 'Generation' }).getByRole('status')).toHaveText('Succeeded', {
    timeout: 60_000,
  });
  return new URL(page.url()).pathname;
}
