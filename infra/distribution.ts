/**
 * The CloudFront side of the FeedPublisher: a distribution that serves `feeds/` and nothing else,
 * with its cache and response-headers policies and the function that gives browsers a feed they
 * can display. Its constructs are created in the publisher's own scope, under the ids they have
 * always had, so moving them here changed no logical id (a new id would replace the distribution,
 * and with it the *.cloudfront.net domain readers subscribed to).
 */
import { Arn, ArnFormat, Duration, Token, Validations } from "aws-cdk-lib";
import type { ICertificate } from "aws-cdk-lib/aws-certificatemanager";
import * as cloudfront from "aws-cdk-lib/aws-cloudfront";
import * as origins from "aws-cdk-lib/aws-cloudfront-origins";
import * as iam from "aws-cdk-lib/aws-iam";
import * as s3 from "aws-cdk-lib/aws-s3";
import type { Construct } from "constructs";
import { FEEDS_CSP } from "../functions/core/negotiate.ts";

/**
 * CloudFront Function (viewer response) with the rule of functions/core/negotiate.ts, written for
 * CloudFront's JavaScript runtime. The infra tests run it against that module for parity.
 */
export const NEGOTIATE_FUNCTION = `function parseAccept(accept) {
  var ranges = [];
  var parts = accept.split(',');
  for (var i = 0; i < parts.length; i++) {
    var params = parts[i].split(';');
    var range = params[0].trim().toLowerCase().split('/');
    var token = /^[!#$%&'*+.^_\`|~0-9a-z-]+$/;
    if (range.length !== 2 || !token.test(range[0]) || !token.test(range[1])) continue;
    if (range[0] === '*' && range[1] !== '*') continue;
    var q = 1;
    var bad = false;
    for (var j = 1; j < params.length; j++) {
      var param = params[j].trim().toLowerCase();
      if (!/^q\\s*=/.test(param)) continue;
      var weight = param.replace(/^q\\s*=\\s*/, '');
      if (!/^(?:0(?:\\.\\d{0,3})?|1(?:\\.0{0,3})?)$/.test(weight)) bad = true;
      else q = Number(weight);
      break;
    }
    if (!bad) ranges.push({ type: range[0], subtype: range[1], q: q, index: i });
  }
  return ranges;
}
function preference(ranges, type, subtype) {
  var best = { q: 0, specificity: -1, index: Infinity };
  for (var i = 0; i < ranges.length; i++) {
    var r = ranges[i];
    var s = r.type === type && r.subtype === subtype ? 2 : r.type === type && r.subtype === '*' ? 1 : r.type === '*' ? 0 : -1;
    if (s > best.specificity) best = { q: r.q, specificity: s, index: r.index };
  }
  return best;
}
function handler(event) {
  var headers = event.response.headers;
  var type = headers['content-type'] ? headers['content-type'].value : '';
  if (!/^application\\/(rss|atom)\\+xml\\b/i.test(type)) return event.response;
  var vary = headers['vary'] ? headers['vary'].value : '';
  headers['vary'] = { value: vary ? vary + ', Accept' : 'Accept' };
  var accept = event.request.headers['accept'] ? event.request.headers['accept'].value : '';
  if (!accept) return event.response;
  var ranges = parseAccept(accept);
  var own = type.split(';')[0].trim().toLowerCase().split('/');
  var html = preference(ranges, 'text', 'html');
  var feed = preference(ranges, own[0], own[1]);
  var browser = html.q !== 0 && (html.q !== feed.q ? html.q > feed.q
    : html.specificity !== feed.specificity ? html.specificity > feed.specificity : html.index < feed.index);
  if (browser) headers['content-type'] = { value: 'application/xml; charset=utf-8' };
  return event.response;
}`;

/** What the distribution serves, and under which name. */
export interface FeedsDistributionProps {
  /** The publisher's bucket; CloudFront may read `feedsPrefix` in it and nothing else. */
  readonly bucket: s3.Bucket;
  /** Key prefix of the published feeds, e.g. "feeds/". */
  readonly feedsPrefix: string;
  /** Bucket receiving the CloudFront access logs (under `cloudfront/`). */
  readonly logBucket: s3.Bucket;
  /**
   * Custom domain; requires `certificate`.
   * @default - the distribution's own *.cloudfront.net domain
   */
  readonly domainName?: string;
  /**
   * ACM certificate in us-east-1 for `domainName`.
   * @default - none
   */
  readonly certificate?: ICertificate;
}

/** The distribution for `feeds/`, its policies and its viewer-response function, in `scope`. */
export function createFeedsDistribution(
  scope: Construct,
  props: FeedsDistributionProps,
): cloudfront.Distribution {
  checkCustomDomain(props.domainName, props.certificate);
  const { bucket } = props;
  // An imported reference, so that the OAC origin cannot add its own statement granting
  // <bucket>/* to CloudFront; the statement below grants feeds/* only.
  const originBucket = s3.Bucket.fromBucketAttributes(scope, "OriginBucket", {
    bucketArn: bucket.bucketArn,
    bucketName: bucket.bucketName,
    bucketRegionalDomainName: bucket.bucketRegionalDomainName,
  });
  const origin = origins.S3BucketOrigin.withOriginAccessControl(originBucket, {
    originAccessLevels: [cloudfront.AccessLevel.READ],
  });

  // Feeds change minutes after an upload; short TTLs let readers see them soon, and CloudFront
  // revalidates with the origin (If-None-Match / If-Modified-Since) and answers viewers' own
  // conditional GETs from the ETag and Last-Modified S3 keeps, so unchanged feeds stay 304s.
  // A Cache-Control header set on the object wins within [minTtl, maxTtl].
  const cachePolicy = new cloudfront.CachePolicy(scope, "FeedsCachePolicy", {
    comment: "feedpub feeds: minutes, compressed, no cookies/query strings in the key",
    defaultTtl: Duration.minutes(5),
    maxTtl: Duration.hours(1),
    minTtl: Duration.seconds(0),
    enableAcceptEncodingGzip: true,
    enableAcceptEncodingBrotli: true,
    cookieBehavior: cloudfront.CacheCookieBehavior.none(),
    headerBehavior: cloudfront.CacheHeaderBehavior.none(),
    queryStringBehavior: cloudfront.CacheQueryStringBehavior.none(),
  });

  const responseHeadersPolicy = new cloudfront.ResponseHeadersPolicy(scope, "FeedsResponseHeaders", {
    comment: "feedpub feeds: security headers and read-only CORS",
    securityHeadersBehavior: {
      strictTransportSecurity: {
        accessControlMaxAge: Duration.days(365),
        includeSubdomains: true,
        override: true,
      },
      contentTypeOptions: { override: true },
      frameOptions: { frameOption: cloudfront.HeadersFrameOption.DENY, override: true },
      referrerPolicy: {
        referrerPolicy: cloudfront.HeadersReferrerPolicy.STRICT_ORIGIN_WHEN_CROSS_ORIGIN,
        override: true,
      },
      // Feeds are data: a browser opening one runs nothing but this origin's XSLT, loads
      // nothing but its stylesheet, and never frames it.
      contentSecurityPolicy: { contentSecurityPolicy: FEEDS_CSP, override: true },
    },
    // Browser-based feed readers fetch feeds cross-origin; ETag is exposed for their conditional GETs.
    corsBehavior: {
      accessControlAllowOrigins: ["*"],
      accessControlAllowMethods: ["GET", "HEAD"],
      accessControlAllowHeaders: ["*"],
      accessControlExposeHeaders: ["ETag"],
      accessControlAllowCredentials: false,
      originOverride: true,
    },
  });

  // Browsers get RSS and Atom as application/xml, so they apply the feeds' XSLT; readers keep
  // the registered types. At viewer response: the cached object stays one and the same.
  const negotiate = new cloudfront.Function(scope, "NegotiateFeedType", {
    comment: "feedpub: application/xml for browsers (Accept: text/html), feed types for readers",
    runtime: cloudfront.FunctionRuntime.JS_2_0,
    code: cloudfront.FunctionCode.fromInline(NEGOTIATE_FUNCTION),
  });

  const distribution = new cloudfront.Distribution(scope, "Distribution", {
    comment: "feedpub: serves feeds/ only",
    defaultBehavior: {
      origin,
      viewerProtocolPolicy: cloudfront.ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
      allowedMethods: cloudfront.AllowedMethods.ALLOW_GET_HEAD,
      cachedMethods: cloudfront.CachedMethods.CACHE_GET_HEAD,
      compress: true,
      cachePolicy,
      responseHeadersPolicy,
      functionAssociations: [
        { function: negotiate, eventType: cloudfront.FunctionEventType.VIEWER_RESPONSE },
      ],
    },
    httpVersion: cloudfront.HttpVersion.HTTP2_AND_3,
    priceClass: cloudfront.PriceClass.PRICE_CLASS_100,
    enableLogging: true,
    logBucket: props.logBucket,
    logFilePrefix: "cloudfront/",
    ...(props.domainName && props.certificate
      ? {
          domainNames: [props.domainName],
          certificate: props.certificate,
          minimumProtocolVersion: cloudfront.SecurityPolicyProtocol.TLS_V1_2_2021,
        }
      : {}),
  });

  bucket.addToResourcePolicy(
    new iam.PolicyStatement({
      sid: "CloudFrontReadsFeedsOnly",
      principals: [new iam.ServicePrincipal("cloudfront.amazonaws.com")],
      actions: ["s3:GetObject"],
      resources: [bucket.arnForObjects(`${props.feedsPrefix}*`)],
      conditions: { StringEquals: { "AWS:SourceArn": distribution.distributionArn } },
    }),
  );

  Validations.of(distribution).acknowledge(
    {
      id: "@aws-cdk/aws-cloudfront-origins:updateImportedBucketPolicyOac",
      reason: "Deliberate: the bucket policy gets its own statement that grants CloudFront feeds/* only.",
    },
    {
      id: "AwsSolutions-CFR1",
      reason: "Public feeds meant for readers and aggregators anywhere; no geographic restriction applies.",
    },
    {
      id: "AwsSolutions-CFR2",
      reason:
        "Static, cached, read-only GET/HEAD of three public files; no application behind it for a WAF to protect.",
    },
  );
  if (!props.certificate) {
    Validations.of(distribution).acknowledge({
      id: "AwsSolutions-CFR4",
      reason:
        "No custom domain configured: the default *.cloudfront.net certificate is used, whose minimum TLS version cannot be set. Pass domainName and certificate to enforce TLSv1.2_2021.",
    });
  }
  return distribution;
}

/** CloudFront needs both a domain and its certificate, and only accepts certificates from us-east-1. */
function checkCustomDomain(domainName: string | undefined, certificate: ICertificate | undefined): void {
  if (Boolean(domainName) !== Boolean(certificate)) {
    throw new Error("FeedPublisher: domainName and certificate must be given together");
  }
  if (!certificate || Token.isUnresolved(certificate.certificateArn)) return;
  const region = Arn.split(certificate.certificateArn, ArnFormat.SLASH_RESOURCE_NAME).region;
  if (region && !Token.isUnresolved(region) && region !== "us-east-1") {
    throw new Error(`FeedPublisher: CloudFront needs an ACM certificate in us-east-1, got one in ${region}`);
  }
}
