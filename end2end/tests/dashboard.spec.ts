// The dashboard: each project with its newest generation's state (linked to it), the model
// routes' health tiles, tokens and cost per day drawn as SVG, and recent activity.
import { test, expect } from '@playwright/test';
import { generateApp, hydrated, signIn } from './session';

test('the dashboard shows projects with their newest generation, routes and usage', async ({ page }) => {
  test.setTimeout(90_000);
  await signIn(page);
  const generation = await generateApp(
    page,
    'A recipe box: recipes have a title, a cuisine and a cooking time in minutes.',
  );

  await page.goto('/');
  await hydrated(page);
  const projects = page.getByRole('region', { name: 'Projects' });
  const line = projects.getByRole('listitem').filter({ hasText: 'Generated apps' });
  await expect(line.getByRole('link', { name: 'succeeded' })).toHaveAttribute('href', generation);
  await expect(line).toContainText('A recipe box');

  const routes = page.getByRole('region', { name: 'Model routes' });
  await expect(routes.getByRole('listitem').first()).toContainText(/healthy/);

  const chart = page.getByRole('region', { name: 'Usage' }).getByRole('img');
  await expect(chart).toHaveAttribute('aria-label', /^Tokens and cost per day: \d+ tokens in \d+ calls, \$[\d.]+ in the last 14 days$/);
  await expect(chart.locator('rect.usage-bar')).toHaveCount(14);
  await expect(page.getByRole('heading', { name: 'Recent activity' })).toBeVisible();
  await page.screenshot({ path: 'test-results/dashboard.png', fullPage: true });

  await line.getByRole('link', { name: 'succeeded' }).click();
  await expect(page).toHaveURL(new RegExp(`${generation}$`));
});
