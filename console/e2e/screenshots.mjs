// Regenerates the screenshots of docs/console.md from the demo's day:
//   cd console/e2e && npm ci && npm run screenshots
import { chromium } from 'playwright-core';
import { mkdirSync } from 'node:fs';
import { startDemo, chromiumPath } from './demo.mjs';

const out = new URL('../../docs/console/', import.meta.url).pathname;
mkdirSync(out, { recursive: true });

const demo = await startDemo();
const browser = await chromium.launch({ executablePath: chromiumPath, args: ['--no-sandbox'] });
try {
  const page = await (await browser.newContext({ viewport: { width: 1280, height: 800 }, locale: 'pt-BR' })).newPage();
  const shot = async (name, path) => {
    if (path) await page.goto(demo.base + path);
    await page.screenshot({ path: `${out}${name}.png` });
    console.log(`docs/console/${name}.png`);
  };
  await page.goto(`${demo.base}/console/login`);
  await shot('login');
  await page.getByLabel('Chave de API').fill(demo.key);
  await page.getByRole('button', { name: 'Entrar' }).click();
  await page.getByRole('heading', { name: 'Visão geral' }).waitFor();
  await shot('overview');
  await shot('attention', '/console/attention');
  await shot('charges', '/console/charges');
  // The charge the counter payment pays, linked as an operator would.
  await page.goto(`${demo.base}/console/charges?reference=2003`);
  const charge = (await page.locator('table tbody a').first().innerText()).trim();
  await page.goto(`${demo.base}/console/attention?kind=unmatched`);
  const form = page.locator('article.item[data-kind="unmatched"] form[action$="/link"]').first();
  await form.getByLabel('Id da cobrança').fill(charge);
  await form.getByRole('button', { name: 'Vincular à cobrança' }).click();
  await page.getByText('Feito.').waitFor();
  await shot('charge', `/console/charges/${charge}`);
  // The BI team's endpoint, once its deliveries died.
  await page.goto(`${demo.base}/console/webhooks`);
  await page.getByRole('row', { name: /BI team/ }).getByRole('link').first().click();
  const endpoint = page.url();
  for (let i = 0; i < 120 && (await page.locator('tr.delivery.d-dead').count()) === 0; i++) {
    await page.waitForTimeout(250);
    await page.goto(endpoint);
  }
  await shot('endpoint');
  await shot('connections', '/console/connections');
  await shot('imports', '/console/imports');
  await page.goto(`${demo.base}/console/jobs/`);
  await page.waitForFunction(() => (document.querySelector('#root')?.innerText || '').includes('Jobs'), null, { timeout: 30_000 });
  await shot('jobs');
} finally {
  await browser.close();
  await demo.stop();
}
