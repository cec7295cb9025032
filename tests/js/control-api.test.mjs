// How a JavaScript project tests its deploy code against `cfinv serve`.
//
//   cfinv serve --port 5000 --latency 1 &
//   CFINV_ENDPOINT=http://127.0.0.1:5000 node --test control-api.test.mjs
//
// The AWS SDK makes the CloudFront calls; the emulator's JSON control API under /_cfinv/
// (plain fetch) sets the scene and reads what happened.

import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { beforeEach, test } from "node:test";
import {
  CloudFrontClient,
  CreateInvalidationCommand,
  waitUntilInvalidationCompleted,
} from "@aws-sdk/client-cloudfront";

const endpoint = process.env.CFINV_ENDPOINT ?? "http://127.0.0.1:5000";

const client = new CloudFrontClient({
  endpoint,
  region: "us-east-1",
  credentials: { accessKeyId: "testing", secretAccessKey: "testing" },
});

// One call to the control API: JSON in, JSON out; an error status throws.
async function control(method, path, body) {
  const response = await fetch(`${endpoint}/_cfinv/${path}`, {
    method,
    headers: { "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  if (!response.ok) {
    throw new Error(`${method} /_cfinv/${path}: ${response.status} ${text}`);
  }
  return text ? JSON.parse(text) : {};
}

// The code under test: the project's deploy step.
async function invalidate(distributionId, paths) {
  const { Invalidation } = await client.send(
    new CreateInvalidationCommand({
      DistributionId: distributionId,
      InvalidationBatch: {
        CallerReference: randomUUID(),
        Paths: { Quantity: paths.length, Items: paths },
      },
    }),
  );
  await waitUntilInvalidationCompleted(
    { client, minDelay: 1, maxWaitTime: 60 },
    { DistributionId: distributionId, Id: Invalidation.Id },
  );
  return Invalidation.Id;
}

beforeEach(() => control("POST", "reset")); // no faults, calls or invalidations left over

test("a throttled create is retried, once", async () => {
  const { Id: distributionId } = await control("POST", "distributions", {});
  await control("POST", "faults", { Kind: "throttle", Operation: "CreateInvalidation" });

  const id = await invalidate(distributionId, ["/index.html", "/assets/*"]);

  const { Calls } = await control("GET", "calls");
  const creates = Calls.filter((call) => call.Operation === "CreateInvalidation");
  assert.deepEqual(
    creates.map((call) => [call.Status, call.ErrorCode, call.InvalidationId]),
    [
      [400, "Throttling", null],
      [201, null, id],
    ],
  );
});

test("another writer's invalidations fill the budget until they complete", async () => {
  const { Id: distributionId } = await control("POST", "distributions", {});
  const paths = Array.from({ length: 3000 }, (_, i) => `/other/${i}.html`);
  await control("POST", "invalidations", {
    DistributionId: distributionId,
    Paths: paths,
    Latency: 600, // seconds InProgress, unless completed sooner
  });

  await assert.rejects(invalidate(distributionId, ["/index.html"]), {
    name: "TooManyInvalidationsInProgress",
  });

  await control("POST", "complete", {});
  const id = await invalidate(distributionId, ["/index.html"]);
  const { Invalidations } = await control("GET", `invalidations?DistributionId=${distributionId}`);
  assert.deepEqual(
    Invalidations.map((inv) => [inv.Paths.length, inv.Status]),
    [
      [3000, "Completed"],
      [1, "Completed"],
    ],
  );
  assert.equal(Invalidations[1].Id, id);
});
