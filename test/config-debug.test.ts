/**
 * The `debug` config key, end to end through a real gateway: verbose refusals. An admin request
 * from an address outside admin.allow_list is told which address was refused.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { startTestGateway } from './support/gateway.js';

async function refusal(debug: boolean) {
  const gw = await startTestGateway({ debug, admin: { allow_list: ['10.0.0.1'] } });
  try {
    return await gw.admin('GET', '/healthz');
  } finally {
    await gw.close();
  }
}

describe('debug', () => {
  it('true: a request refused by the allow list is told its address', async () => {
    const r = await refusal(true);
    assert.equal(r.status, 401);
    assert.deepEqual(r.body, { error: 'Unauthorized IP Address: 127.0.0.1', status: 401, code: 'DG_ERR_IP_NOT_ALLOWED' });
  });

  it('false (the default): the refusal says only Unauthorized', async () => {
    const r = await refusal(false);
    assert.equal(r.status, 401);
    assert.deepEqual(r.body, { error: 'Unauthorized', status: 401, code: 'DG_ERR_UNAUTHORIZED' });
  });
});
