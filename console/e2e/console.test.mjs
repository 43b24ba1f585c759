// The console used as an operator would, in headless Chromium, against the
// demo's day: sign in, resolve every kind of attention item, see the
// linked charge paid and its charge.paid delivered, retry dead deliveries,
// read a failing connection's error; and the refusals (a wrong key, a POST
// without the form's token). Screenshots of each page go to artifacts/.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { chromium } from 'playwright-core';
import { startDemo, artifacts, chromiumPath } from './demo.mjs';

let demo, browser, context, page;

before(async () => {
  demo = await startDemo();
  browser = await chromium.launch({ executablePath: chromiumPath, args: ['--no-sandbox'] });
  context = await browser.newContext({ viewport: { width: 1366, height: 900 }, locale: 'pt-BR' });
  page = await context.newPage();
});

after(async () => {
  await browser?.close();
  await demo?.stop();
});

const shot = (name) => page.screenshot({ path: `${artifacts}${name}.png`, fullPage: true });

// until reloads the page until check passes (the queue and the deliverer
// work on their own time), for at most 60 s.
async function until(check, what) {
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (await check()) return;
    if (Date.now() > deadline) assert.fail(`waited 60 s for ${what}`);
    await page.waitForTimeout(250);
    await page.reload();
  }
}

test('a wrong API key is refused', async () => {
  await page.goto(`${demo.base}/console/`);
  assert.match(page.url(), /\/console\/login\?next=/);
  await page.getByLabel('Chave de API').fill('bx_demo_not-the-key');
  await page.getByRole('button', { name: 'Entrar' }).click();
  await page.getByText('Chave de API errada ou revogada.').waitFor();
  const cookies = await context.cookies();
  assert.equal(cookies.filter((c) => c.name === 'baixa_session').length, 0);
  await shot('login-refused');
});

test('signing in shows the day', async () => {
  await page.getByLabel('Chave de API').fill(demo.key);
  await page.getByRole('button', { name: 'Entrar' }).click();
  await page.getByRole('heading', { name: 'Visão geral' }).waitFor();
  const session = (await context.cookies()).find((c) => c.name === 'baixa_session');
  assert.ok(session && session.httpOnly && session.sameSite === 'Strict', 'the session cookie is HttpOnly and SameSite=Strict');
  assert.ok(!session.value.includes(demo.key), 'the cookie does not carry the key in clear');
  assert.match(await page.locator('#payments-total').innerText(), /^R\$ \d{1,3}(\.\d{3})*,\d{2}$/);
  assert.ok(Number(await page.locator('#attention-total').innerText()) >= 5);
  await shot('overview');
});

test('a POST without the form token is refused', async () => {
  const res = await page.request.post(`${demo.base}/console/attention/mov_x/dismiss`, { form: { note: 'no token' }, maxRedirects: 0 });
  assert.equal(res.status(), 403);
  const other = await page.request.post(`${demo.base}/console/logout`, { form: { csrf: 'forged' }, maxRedirects: 0 });
  assert.equal(other.status(), 403);
});

test('the unmatched counter payment is linked to its charge, which becomes paid and is announced', async () => {
  // The charge the operator knows it pays: P3, boleto 2003.
  await page.goto(`${demo.base}/console/charges?reference=2003`);
  const link = page.locator('table tbody a').first();
  const charge = (await link.innerText()).trim();
  assert.match(charge, /^chg_/);
  await shot('charges');

  await page.goto(`${demo.base}/console/attention?kind=unmatched`);
  await shot('attention');
  const item = page.locator('article.item[data-kind="unmatched"]').filter({ hasText: '2999' });
  const form = item.locator('form[action$="/link"]');
  await form.getByLabel('Id da cobrança').fill(charge);
  await form.getByLabel('Observação').fill('pago no balcão com o boleto 2999');
  await form.getByRole('button', { name: 'Vincular à cobrança' }).click();
  await page.getByText('Feito.').waitFor();

  await page.goto(`${demo.base}/console/charges/${charge}`);
  assert.equal(await page.locator('#charge-status').innerText(), 'paga');
  assert.equal(await page.locator('#charge-paid').innerText(), 'R$ 42,00');
  await page.getByText('charge.paid').first().waitFor();
  await shot('charge');

  // Its charge.paid reaches the ERP.
  await page.goto(`${demo.base}/console/webhooks`);
  await page.getByRole('link', { name: /^ep_/ }).first().click();
  await until(async () => (await page.locator('tr.delivery', { hasText: 'charge.paid' }).filter({ hasText: charge })
    .filter({ hasText: 'entregue' }).count()) > 0, `charge.paid of ${charge} delivered`);
});

test('every other kind of attention item is resolved from the browser', async () => {
  const decide = async (kind, fill) => {
    await page.goto(`${demo.base}/console/attention?kind=${kind}`);
    const item = page.locator(`article.item[data-kind="${kind}"]`).first();
    await fill(item);
    await page.getByText('Feito.').waitFor();
  };
  await decide('paid_twice', async (item) => {
    await item.locator('form[action$="/refund"]').getByLabel('Observação').fill('devolvido por Pix');
    await item.getByRole('button', { name: 'Devolvido' }).click();
  });
  await decide('paid_after_write_off', async (item) => {
    await item.locator('form[action$="/keep-as-credit"]').getByLabel('Valor').fill('60,00');
    await item.getByRole('button', { name: 'Mantido como crédito' }).click();
  });
  for (const kind of ['declined', 'flagged']) {
    await page.goto(`${demo.base}/console/attention?kind=${kind}`);
    while (await page.locator(`article.item[data-kind="${kind}"]`).count() > 0) {
      const item = page.locator(`article.item[data-kind="${kind}"]`).first();
      await item.locator('form[action$="/dismiss"]').getByLabel('Motivo').fill('visto com o provedor');
      await item.getByRole('button', { name: 'Descartar' }).click();
      await page.getByText('Feito.').waitFor();
    }
  }
  await page.goto(`${demo.base}/console/attention`);
  await page.locator('#queue-empty').waitFor();
  await page.goto(`${demo.base}/console/attention?state=resolved`);
  assert.ok(await page.locator('article.item').count() >= 5);
  await shot('attention-resolved');
});

test('dead deliveries are retried and delivered', async () => {
  await page.goto(`${demo.base}/console/webhooks`);
  await shot('webhooks');
  await page.getByRole('row', { name: /BI team/ }).getByRole('link').first().click();
  const dead = page.locator('tr.delivery.d-dead');
  await until(async () => (await dead.count()) > 0, 'a dead delivery to the flaky endpoint');
  await shot('endpoint-dead');
  const row = dead.first();
  const id = await row.getAttribute('id');
  await row.getByRole('button', { name: 'Tentar de novo' }).click();
  await page.getByText('Enfileirada de novo.').waitFor();
  await until(async () => (await page.locator(`#${id}.d-succeeded`).count()) > 0, `${id} delivered after the retry`);
});

test('a failing connection shows its error', async () => {
  await page.goto(`${demo.base}/console/connections`);
  const row = page.getByRole('row', { name: /Recuperador \(old token\)/ });
  assert.match(await row.locator('.error-text').innerText(), /401|Token inválido/);
  await shot('connections');
  await page.goto(`${demo.base}/console/imports`);
  await shot('imports');
});

test('every control of every page has a name, and the keyboard reaches the content first', async () => {
  for (const path of ['/console/', '/console/attention?state=all', '/console/charges', '/console/webhooks', '/console/connections', '/console/imports']) {
    await page.goto(demo.base + path);
    const nameless = await page.evaluate(() => [...document.querySelectorAll('input:not([type=hidden]), select, button, a[href]')]
      .filter((el) => {
        const label = el.labels && el.labels.length > 0 ? el.labels[0].innerText.trim() : '';
        return !label && !(el.getAttribute('aria-label') || '').trim() && !(el.innerText || '').trim();
      }).map((el) => el.outerHTML.slice(0, 120)));
    assert.deepEqual(nameless, [], `${path}: controls without a name`);
    await page.keyboard.press('Tab');
    assert.equal(await page.evaluate(() => document.activeElement?.getAttribute('href')), '#main', `${path}: the first Tab is the skip link`);
  }
});

test('the English switch, and the River UI behind the same sign-in', async () => {
  await page.goto(`${demo.base}/console/attention`);
  await page.getByRole('link', { name: 'English' }).click();
  await page.getByRole('heading', { name: 'Attention' }).waitFor();
  await page.getByRole('link', { name: 'Português' }).click();
  await page.getByRole('heading', { name: 'Pendências' }).waitFor();
  await page.goto(`${demo.base}/console/jobs/`);
  await page.waitForFunction(() => (document.querySelector('#root')?.innerText || '').includes('Jobs'), null, { timeout: 30_000 });
  await shot('jobs');
  const anonymous = await browser.newContext();
  const res = await anonymous.request.get(`${demo.base}/console/jobs/api/jobs?state=completed`, { maxRedirects: 0 });
  assert.equal(res.status(), 303, 'River UI needs the sign-in');
  await anonymous.close();
});
