// Sign in as the local user, create a project through the hydrated form, see it listed,
// reload, and see it still there; bad names get a message beside the field.
import { test, expect } from '@playwright/test';
import { hydrated, signIn } from './session';

test('local user creates a project without a page reload, and it survives a reload', async ({ page }) => {
  await signIn(page);
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Projects' }).click();
  await expect(page).toHaveURL(/\/projects$/);

  // A marker on window survives client-side navigation and dies with a full page load.
  await page.evaluate(() => ((window as any).__sameDocument = true));

  const name = `Library ${Date.now()}`;
  await page.getByRole('link', { name: 'New project' }).click();
  await expect(page).toHaveURL(/\/projects\/new$/);
  await page.getByLabel('Project name').fill(name);
  await page.getByLabel('Description').fill('Members borrow books; books have a title, an author and an ISBN.');
  await page.getByRole('button', { name: 'Create project' }).click();

  const list = page.getByRole('list', { name: 'Projects' });
  await expect(list.getByRole('heading', { name })).toBeVisible();
  await expect(page).toHaveURL(/\/projects$/);
  expect(await page.evaluate(() => (window as any).__sameDocument)).toBe(true);

  await page.reload();
  await hydrated(page);
  await expect(page.getByRole('list', { name: 'Projects' }).getByRole('heading', { name })).toBeVisible();

  await page.getByRole('link', { name: 'Audit log' }).first().click();
  await expect(page.getByRole('table', { name: 'Audit log' })).toContainText('project.create');
  await page.screenshot({ path: 'test-results/projects.png', fullPage: true });
});

test('empty and overlong names get a message beside the field', async ({ page }) => {
  await signIn(page);
  await page.goto('/projects/new');
  await hydrated(page);
  const field = page.getByLabel('Project name');
  const message = page.locator('#project-name-error');

  await page.getByRole('button', { name: 'Create project' }).click();
  await expect(message).toHaveText('Give the project a name.');
  await expect(field).toHaveAttribute('aria-invalid', 'true');

  await field.fill('x'.repeat(300));
  await page.getByRole('button', { name: 'Create project' }).click();
  await expect(message).toHaveText('The name is 300 characters long; the limit is 100.');
  await expect(page).toHaveURL(/\/projects\/new$/);
});

test('an unknown address shows the 404 page', async ({ page }) => {
  await signIn(page);
  const response = await page.goto('/no/such/page');
  expect(response?.status()).toBe(404);
  await expect(page.getByRole('heading', { name: 'Page not found' })).toBeVisible();
});

test('sign out returns to the sign-in page', async ({ page }) => {
  await signIn(page);
  await page.getByRole('button', { name: 'Sign out' }).click();
  await expect(page).toHaveURL(/\/login$/);
  await page.goto('/projects');
  await expect(page).toHaveURL(/\/login$/);
});

test('a project is renamed and deleted from its card', async ({ page }) => {
  await signIn(page);
  await page.goto('/projects/new');
  await hydrated(page);
  const name = `Shop ${Date.now()}`;
  await page.getByLabel('Project name').fill(name);
  await page.getByRole('button', { name: 'Create project' }).click();
  const list = page.getByRole('list', { name: 'Projects' });
  await expect(list.getByRole('heading', { name })).toBeVisible();

  await page.getByRole('link', { name: `Rename ${name}` }).click();
  await expect(page.getByLabel('Project name')).toHaveValue(name);
  await page.getByLabel('Project name').fill(`${name} renamed`);
  await page.getByRole('button', { name: 'Save changes' }).click();
  await expect(page).toHaveURL(/\/projects$/);
  const card = list.locator('li', { has: page.getByRole('heading', { name: `${name} renamed` }) });
  await expect(card).toBeVisible();

  await card.getByRole('button', { name: 'Delete' }).click();
  await card.getByRole('button', { name: 'Confirm delete' }).click();
  await expect(page.getByRole('heading', { name: `${name} renamed` })).toHaveCount(0);
  await page.reload();
  await hydrated(page);
  await expect(page.getByRole('heading', { name: `${name} renamed` })).toHaveCount(0);
});
