"""moto's server as a test peer: what it needs before it accepts invalidations."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from types_aiobotocore_cloudfront import CloudFrontClient


async def moto_distribution(cf: CloudFrontClient) -> str:
    """Create the smallest distribution moto accepts; return its id."""
    origin: Any = {
        "Id": "origin",
        "DomainName": "example.com",
        "CustomOriginConfig": {
            "HTTPPort": 80,
            "HTTPSPort": 443,
            "OriginProtocolPolicy": "https-only",
        },
    }
    created = await cf.create_distribution(
        DistributionConfig={
            "CallerReference": f"cfinv-tests-{uuid.uuid4()}",  # moto's state is per process
            "Comment": "",
            "Enabled": True,
            "Origins": {"Quantity": 1, "Items": [origin]},
            "DefaultCacheBehavior": {
                "TargetOriginId": "origin",
                "ViewerProtocolPolicy": "allow-all",
                "ForwardedValues": {"QueryString": False, "Cookies": {"Forward": "none"}},
                "MinTTL": 0,
                "TrustedSigners": {"Enabled": False, "Quantity": 0},
            },
        }
    )
    return created["Distribution"]["Id"]
