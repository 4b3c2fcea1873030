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
