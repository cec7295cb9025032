// The AWS SDK for JavaScript v3 against cfinv's CloudFront emulator.
//
// Usage: node interop.mjs SCENARIO=ARGUMENT [SCENARIO=ARGUMENT ...]
//
// The client is built with no options: endpoint, region and credentials come from the
// environment (AWS_ENDPOINT_URL_CLOUDFRONT, AWS_REGION, AWS_ACCESS_KEY_ID,
// AWS_SECRET_ACCESS_KEY), as `CloudFrontEmulator.environ()` sets them, so this is what
// unchanged deploy code does.  Scenarios run one after another, in the order given, in this
// one process (node and the SDK take about half a second to start).  The script prints one
// JSON object: scenario name -> what happened.  An SDK error is reported, not thrown, as
// {"error": {name, status, attempts, modeled, message}}.
//
// tests/test_emulator_js.py prepares the emulator (distributions, other writers, faults)
// and asserts on the output.

import * as cf from "@aws-sdk/client-cloudfront";

const client = new cf.CloudFrontClient({});

function batch(reference, paths) {
  return { CallerReference: reference, Paths: { Quantity: paths.length, Items: paths } };
}

function invalidation(inv) {
  return {
    Id: inv.Id,
    Status: inv.Status,
    CreateTime: inv.CreateTime.toISOString(),
    CreateTimeIsDate: inv.CreateTime instanceof Date,
    Paths: inv.InvalidationBatch.Paths.Items,
    Quantity: inv.InvalidationBatch.Paths.Quantity,
    CallerReference: inv.InvalidationBatch.CallerReference,
  };
}

function failure(error) {
  if (!(error instanceof cf.CloudFrontServiceException)) {
    throw error; // not an answer from the service: a bug in this script or the SDK
  }
  return {
    error: {
      name: error.name,
      status: error.$metadata.httpStatusCode,
      attempts: error.$metadata.attempts,
      // The SDK parsed the answer into its own class for the code (e.g. cf.NoSuchDistribution).
      modeled: typeof cf[error.name] === "function" && error instanceof cf[error.name],
      message: error.message,
    },
  };
}

async function create(distributionId, paths, reference) {
  const out = await client.send(
    new cf.CreateInvalidationCommand({
      DistributionId: distributionId,
      InvalidationBatch: batch(reference, paths),
    }),
  );
  return {
    Location: out.Location,
    Invalidation: invalidation(out.Invalidation),
    status: out.$metadata.httpStatusCode,
    attempts: out.$metadata.attempts,
  };
}

const scenarios = {
  // CreateInvalidation, then GetInvalidation of what it created.
  async "create-and-get"(distributionId) {
    const created = await create(distributionId, ["/index.html", "/img/*"], "js-create-1");
    const got = await client.send(
      new cf.GetInvalidationCommand({
        DistributionId: distributionId,
        Id: created.Invalidation.Id,
      }),
    );
    return { created, got: invalidation(got.Invalidation) };
  },

  // paginateListInvalidations with two a page: every page, as the SDK fetched it.
  async "list-pages"(distributionId) {
    const pages = [];
    const paginator = cf.paginateListInvalidations(
      { client, pageSize: 2 },
      { DistributionId: distributionId },
    );
    for await (const page of paginator) {
      const list = page.InvalidationList;
      pages.push({
        Ids: (list.Items ?? []).map((item) => item.Id),
        Statuses: (list.Items ?? []).map((item) => item.Status),
        Marker: list.Marker ?? "",
        NextMarker: list.NextMarker ?? null,
        IsTruncated: list.IsTruncated,
        MaxItems: list.MaxItems,
        Quantity: list.Quantity,
      });
    }
    return { pages };
  },

  // waitUntilInvalidationCompleted on "DISTRIBUTION/INVALIDATION", polling often.
  async waiter(argument) {
    const [distributionId, id] = argument.split("/");
    const result = await cf.waitUntilInvalidationCompleted(
      { client, minDelay: 0.1, maxDelay: 0.5, maxWaitTime: 60 },
      { DistributionId: distributionId, Id: id },
    );
    return { state: result.state, Status: result.reason.Invalidation.Status };
  },

  // The three ...ForDistributionTenant commands.
  async tenant(tenantId) {
    const created = await client.send(
      new cf.CreateInvalidationForDistributionTenantCommand({
        Id: tenantId,
        InvalidationBatch: batch("js-tenant-1", ["/tenant/*"]),
      }),
    );
    const id = created.Invalidation.Id;
    const got = await client.send(
      new cf.GetInvalidationForDistributionTenantCommand({ DistributionTenantId: tenantId, Id: id }),
    );
    const listed = await client.send(
      new cf.ListInvalidationsForDistributionTenantCommand({ Id: tenantId }),
    );
    return {
      Location: created.Location,
      created: invalidation(created.Invalidation),
      got: invalidation(got.Invalidation),
      listed: listed.InvalidationList.Items.map((item) => item.Id),
    };
  },

  // A distribution that does not exist.
  async "no-such-distribution"(distributionId) {
    return create(distributionId, ["/a"], "js-missing-1");
  },

  // One more path on a distribution whose in-progress budget is full.
  async "too-many"(distributionId) {
    return create(distributionId, ["/one-more"], "js-too-many-1");
  },

  // The same CallerReference: the same paths replay, other paths conflict.
  async "caller-reference"(distributionId) {
    const first = await create(distributionId, ["/a"], "js-reused-1");
    const replay = await create(distributionId, ["/a"], "js-reused-1");
    let conflict;
    try {
      conflict = await create(distributionId, ["/b"], "js-reused-1");
    } catch (error) {
      conflict = failure(error);
    }
    return { first: first.Invalidation.Id, replay: replay.Invalidation.Id, conflict };
  },

  // A create answered Throttling twice: the SDK's standard retries carry it through.
  async throttling(distributionId) {
    return create(distributionId, ["/retried"], "js-throttled-1");
  },
};

const results = {};
for (const spec of process.argv.slice(2)) {
  const [name, argument] = spec.split("=", 2);
  const scenario = scenarios[name];
  if (scenario === undefined) {
    console.error(`unknown scenario ${name}: expected one of ${Object.keys(scenarios).join(", ")}`);
    process.exit(2);
  }
  try {
    results[name] = await scenario(argument);
  } catch (error) {
    results[name] = failure(error);
  }
}
console.log(JSON.stringify(results));
