import { Stack, type StackProps } from "aws-cdk-lib";
import { Certificate } from "aws-cdk-lib/aws-certificatemanager";
import type { Construct } from "constructs";
import { FeedPublisher, type FeedPublisherProps } from "./feed-publisher.ts";

/** Properties of the feedpub stack. */
export interface FeedpubStackProps extends StackProps {
  /** Everything the publisher needs except the certificate, which is looked up by ARN. */
  readonly publisher: Omit<FeedPublisherProps, "certificate">;
  /**
   * ARN of an ACM certificate in us-east-1 for `publisher.domainName`.
   * @default - none (the distribution's own domain is used)
   */
  readonly certificateArn?: string;
}

/** The deployable unit: one FeedPublisher. */
export class FeedpubStack extends Stack {
  /** The publisher's resources. */
  public readonly publisher: FeedPublisher;

  constructor(scope: Construct, id: string, props: FeedpubStackProps) {
    super(scope, id, props);
    const certificate = props.certificateArn
      ? Certificate.fromCertificateArn(this, "Certificate", props.certificateArn)
      : undefined;
    this.publisher = new FeedPublisher(this, "FeedPublisher", {
      ...props.publisher,
      ...(certificate ? { certificate } : {}),
    });
  }
}
