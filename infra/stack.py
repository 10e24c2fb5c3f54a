"""The whole of Cúspide on AWS, built from ``infra/resources.py``.

Every table index, queue, rule and schedule comes from the resource definitions, so a module that
adds a queue or a schedule there is deployed without touching this file.
"""

from __future__ import annotations

import json
import os
from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_apigatewayv2 as apigwv2
from aws_cdk import aws_apigatewayv2_integrations as apigwv2_integrations
from aws_cdk import aws_certificatemanager as acm
from aws_cdk import aws_cloudfront as cloudfront
from aws_cdk import aws_cloudfront_origins as origins
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as cw_actions
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_event_sources as sources
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_s3_deployment as s3deploy
from aws_cdk import aws_scheduler as scheduler
from aws_cdk import aws_secretsmanager as secretsmanager
from aws_cdk import aws_ses as ses
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subs
from aws_cdk import aws_sqs as sqs
from aws_cdk import aws_ssm as ssm
from constructs import Construct

from chalicelib.core import scoping
from infra.artifacts import Artifacts
from infra.headers import AWS_ORIGINS, spa_csp
from infra.resources import API_GRANTS, GRANTS, LifecycleRule, Resources
from infra.settings import StageSettings

RUNTIME = lambda_.Runtime.PYTHON_3_11
WORKER_ARCH = lambda_.Architecture.ARM_64
API_STAGE = "api"  # .chalice/config.json api_gateway_stage; CloudFront's origin path
NOT_FOUND_BODY = {
    "data": None,
    "message": "No API route matches this path.",
    "code": "NOT_FOUND",
    "errors": [],
}
# /api/* answers JSON, plus the few HTML pages patients open from their emails (a budget to
# sign, an appointment to confirm), which send a CSP of their own with a nonce for their inline
# script. CloudFront must not replace it with the SPA's (script-src 'self' would block it): on
# the API the policy below is only a default for answers that carry none.
API_CSP = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
# Paths without a file extension are SPA routes: serve index.html (only on the SPA behaviour,
# so API 404s stay API 404s; distribution-wide error pages would rewrite them too).
SPA_FALLBACK_JS = """function handler(event) {
  var request = event.request;
  var uri = request.uri;
  var last = uri.substring(uri.lastIndexOf('/') + 1);
  if (last.indexOf('.') === -1) {
    request.uri = '/index.html';
  }
  return request;
}
"""
# Creates the signing-keys document once (same shape as chalicelib.core.keys.
# generate_secret_value), on stack creation only: later deploys never overwrite rotated keys.
KEYRING_BOOTSTRAP_CODE = """import base64, json, secrets
import boto3, cfnresponse

def ring():
    kid = secrets.token_hex(4)
    return {"active": kid, "keys": {kid: base64.b64encode(secrets.token_bytes(32)).decode()}}

def handler(event, context):
    try:
        if event["RequestType"] == "Create":
            value = json.dumps({"jwt": ring(), "links": ring()})
            boto3.client("secretsmanager").put_secret_value(
                SecretId=event["ResourceProperties"]["SecretId"], SecretString=value)
        cfnresponse.send(event, context, cfnresponse.SUCCESS, {}, "signing-keys")
    except Exception as exc:
        cfnresponse.send(event, context, cfnresponse.FAILED, {"Error": str(exc)[:200]},
                         "signing-keys")
"""


def handler_path(handler: str) -> str:
    """``"image_worker:handler"`` (resources.py) -> ``"functions.image_worker.handler"``."""
    module, func = handler.split(":")
    return f"functions.{module}.{func}"


class CuspideStack(cdk.Stack):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        res: Resources,
        settings: StageSettings,
        artifacts: Artifacts,
        **kwargs: Any,
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)
        self.res = res
        self.settings = settings
        self.artifacts = artifacts
        self.removal = (
            cdk.RemovalPolicy.RETAIN if settings.protect_data else cdk.RemovalPolicy.DESTROY
        )
        cdk.Tags.of(self).add("app", "cuspide")
        cdk.Tags.of(self).add("stage", res.stage)

        self.alarm_topic = sns.Topic(self, "Alarms", display_name=f"{res.prefix} alarms")
        if settings.alarm_email:
            self.alarm_topic.add_subscription(subs.EmailSubscription(settings.alarm_email))

        self._key()
        self._table()
        self._media_bucket()
        self._archive_bucket()
        self._tenant_data_role()
        self._signing_secret()
        self._bus()
        self._mail()
        self._spa_bucket()
        self._layers()
        self._live_api()
        self._api()
        self._distribution()
        self._live_socket()
        self.worker_functions: dict[str, lambda_.Function] = {}
        for queue in res.queues:
            self._queue_worker(queue)
        self.schedule_dlq = self._dlq("schedules-dlq", f"{res.prefix}-schedules-dlq")
        for schedule in res.schedules:
            self._schedule(schedule)
        self._unsent_events_alarm()
        self._outputs()

    # -- data ----------------------------------------------------------------------------------

    def _key(self) -> None:
        self.key = kms.Key(
            self,
            "DataKey",
            alias=self.res.kms_alias,
            description=f"{self.res.prefix}: table, media, secrets, queues and envelope data keys",
            enable_key_rotation=True,
            removal_policy=self.removal,
            pending_window=cdk.Duration.days(30 if self.settings.protect_data else 7),
        )

    def _table(self) -> None:
        t = self.res.table
        s = dynamodb.AttributeType.STRING
        self.table = dynamodb.Table(
            self,
            "Table",
            table_name=self.res.table_name,
            partition_key=dynamodb.Attribute(name=t.hash_key, type=s),
            sort_key=dynamodb.Attribute(name=t.range_key, type=s),
            billing_mode=dynamodb.BillingMode.PAY_PER_REQUEST,
            point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
                point_in_time_recovery_enabled=True
            ),
            encryption=dynamodb.TableEncryption.CUSTOMER_MANAGED,
            encryption_key=self.key,
            time_to_live_attribute=t.ttl_attribute,
            deletion_protection=self.settings.protect_data,
            removal_policy=self.removal,
        )
        for ix in t.indexes:
            self.table.add_global_secondary_index(
                index_name=ix.name,
                partition_key=dynamodb.Attribute(name=ix.hash_key, type=s),
                sort_key=dynamodb.Attribute(name=ix.range_key, type=s),
                projection_type=dynamodb.ProjectionType.ALL,
            )

    def _media_bucket(self) -> None:
        # Without a custom domain the SPA origin is the CloudFront domain, set in _distribution
        # once it exists (no cycle: the API Lambda reads MEDIA_BUCKET as a literal name).
        # Settings from infra/resources.py MediaBucket: the local stack provisions the same.
        origins_ = [self.settings.public_url or "https://placeholder.invalid"]
        spec = self.res.media
        self.media_bucket = s3.Bucket(
            self,
            "MediaBucket",
            bucket_name=self.res.media_bucket,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            encryption=s3.BucketEncryption.KMS,
            encryption_key=self.key,
            bucket_key_enabled=spec.bucket_key,
            enforce_ssl=True,
            versioned=spec.versioned,
            event_bridge_enabled=True,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            removal_policy=cdk.RemovalPolicy.RETAIN,  # clinical images: never with the stack
            cors=[
                s3.CorsRule(
                    allowed_methods=[s3.HttpMethods(m) for m in spec.cors_methods],
                    allowed_origins=origins_,
                    allowed_headers=list(spec.cors_headers),
                    exposed_headers=list(spec.cors_exposed),
                    max_age=spec.cors_max_age_s,
                )
            ],
            lifecycle_rules=[_lifecycle_rule(r) for r in spec.lifecycle],
        )

    def _archive_bucket(self) -> None:
        """VERI*FACTU WORM archive (ADR 0206): Object Lock in COMPLIANCE mode with the stage's
        default retention (versioning on, as Object Lock requires), retained with the stack.
        SSE-S3, not the stack's KMS key: a customer key can be disabled or scheduled for
        deletion, which would make every locked copy unreadable before its retention ends."""
        lock = self.res.archive_lock
        self.archive_bucket = s3.Bucket(
            self,
            "VerifactuArchiveBucket",
            bucket_name=self.res.archive_bucket,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            encryption=s3.BucketEncryption.S3_MANAGED,
            enforce_ssl=True,
            versioned=True,
            object_lock_enabled=True,
            object_lock_default_retention=s3.ObjectLockRetention.compliance(
                cdk.Duration.days(lock.days)
            ),
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            removal_policy=cdk.RemovalPolicy.RETAIN,  # legal records: never with the stack
        )
        # Write once: a put that could replace the current object (without If-None-Match: *)
        # is refused, so no one can stack a different version on top of a record's copy.
        self.archive_bucket.add_to_resource_policy(
            iam.PolicyStatement(
                sid="WriteOnceOnly",
                effect=iam.Effect.DENY,
                principals=[iam.AnyPrincipal()],
                actions=["s3:PutObject"],
                resources=[self.archive_bucket.arn_for_objects("*")],
                conditions={"Null": {"s3:if-none-match": "true"}},
            )
        )

    def _tenant_data_role(self) -> None:
        """The role every clinic-scoped credential is assumed from (ADR 0012). Its own policy
        is the bound (any clinic's partition and objects, the lookups on the base table); each
        ``AssumeRole`` adds the session policy of one clinic
        (``chalicelib.core.scoping.clinic_policy``), so the credentials reach that clinic only.
        Only functions granted the table or the media bucket may assume it (``_grant``)."""
        self.tenant_role = iam.Role(
            self,
            "TenantDataRole",
            assumed_by=iam.AccountRootPrincipal(),
            description=f"{self.res.prefix}: one clinic's data, through a session policy",
            max_session_duration=cdk.Duration.hours(1),
        )
        bound = scoping.role_policy(
            table_arn=self.table.table_arn,
            media_bucket_arn=self.media_bucket.bucket_arn,
            archive_bucket_arn=self.archive_bucket.bucket_arn,
        )
        for st in bound["Statement"]:
            self.tenant_role.add_to_policy(iam.PolicyStatement.from_json(st))
        # The table and the media bucket are encrypted with the data key: reading and writing
        # them needs it, through those services only.
        self.tenant_role.add_to_policy(
            iam.PolicyStatement(
                actions=list(scoping.DATA_KEY_ACTIONS),
                resources=[self.key.key_arn],
                conditions={
                    "StringEquals": {
                        "kms:ViaService": [
                            f"dynamodb.{self.region}.amazonaws.com",
                            f"s3.{self.region}.amazonaws.com",
                        ]
                    }
                },
            )
        )

    def _signing_secret(self) -> None:
        self.secret = secretsmanager.Secret(
            self,
            "SigningKeys",
            secret_name=self.res.signing_secret,
            description="JWT and patient-link signing keys (see chalicelib/core/keys.py)",
            encryption_key=self.key,
            removal_policy=self.removal,
        )
        fn = lambda_.Function(
            self,
            "SigningKeysBootstrap",
            runtime=RUNTIME,
            architecture=WORKER_ARCH,
            handler="index.handler",
            code=lambda_.Code.from_inline(KEYRING_BOOTSTRAP_CODE),
            timeout=cdk.Duration.seconds(30),
            description="Writes the first signing-keys document on stack creation",
            log_group=self._log_group("SigningKeysBootstrapLogs"),
        )
        self.secret.grant_write(fn)
        cdk.CustomResource(
            self,
            "SigningKeysInitial",
            service_token=fn.function_arn,
            resource_type="Custom::SigningKeys",
            properties={"SecretId": self.secret.secret_arn},
        )

    def _mail(self) -> None:
        res = self.res
        self.mail_domain = res.mail_sender.split("@", 1)[1]
        self.mail_feedback = sns.Topic(
            self, "MailFeedback", display_name=f"{res.prefix} SES bounces and complaints"
        )
        self.config_set = ses.ConfigurationSet(
            self,
            "MailConfigurationSet",
            configuration_set_name=res.prefix,
            reputation_metrics=True,
            sending_enabled=True,
            suppression_reasons=ses.SuppressionReasons.BOUNCES_AND_COMPLAINTS,
        )
        feedback = [ses.EmailSendingEvent.BOUNCE, ses.EmailSendingEvent.COMPLAINT]
        self.config_set.add_event_destination(
            "BouncesAndComplaints",
            destination=ses.EventDestination.sns_topic(self.mail_feedback),
            events=feedback,
        )
        # The ses-feedback queue's rule (resources.py) listens on the default bus, the only bus
        # SES publishes to ("Email Bounced", "Email Complaint Received").
        self.config_set.add_event_destination(
            "FeedbackToEventBridge",
            destination=ses.EventDestination.event_bus(self.default_bus),
            events=feedback,
        )
        if self.settings.manage_ses_identity:
            self.identity = ses.EmailIdentity(
                self,
                "MailIdentity",
                identity=ses.Identity.domain(self.mail_domain),
                configuration_set=self.config_set,
            )

    def _bus(self) -> None:
        self.bus = events.EventBus(self, "Bus", event_bus_name=self.res.event_bus)
        self.default_bus = events.EventBus.from_event_bus_name(self, "DefaultBus", "default")

    # -- front door ----------------------------------------------------------------------------

    def _spa_bucket(self) -> None:
        self.spa_bucket = s3.Bucket(
            self,
            "SpaBucket",
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            encryption=s3.BucketEncryption.S3_MANAGED,
            enforce_ssl=True,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            removal_policy=self.removal,
            auto_delete_objects=False,
        )

    def _api(self) -> None:
        # Imported here: the chalice CDK construct imports chalice's packager, and packaging
        # (pip download of manylinux wheels, cached in .chalice/deployments) runs right here.
        os.environ.setdefault("AWS_DEFAULT_REGION", self.settings.region)
        from chalice.cdk import Chalice

        self.api_role = self._role("ApiRole", "the Chalice API")
        self._grant(self.api_role, API_GRANTS)
        # The detailed health check asks about the media bucket itself (never an object:
        # objects only with a clinic's credentials, ADR 0012).
        self.api_role.add_to_policy(
            iam.PolicyStatement(
                actions=["s3:GetBucketVersioning"], resources=[self.media_bucket.bucket_arn]
            )
        )
        # The SPA's URL for emailed links, written by the stack once CloudFront exists (_env).
        self.api_role.add_to_policy(
            iam.PolicyStatement(
                actions=["ssm:GetParameter"],
                resources=[
                    self.format_arn(
                        service="ssm", resource="parameter", resource_name=self._app_url_name[1:]
                    )
                ],
            )
        )
        # /health/detailed looks up each queue's URL.
        self.api_role.add_to_policy(
            iam.PolicyStatement(
                actions=["sqs:GetQueueUrl"],
                resources=[
                    self.format_arn(service="sqs", resource=self.res.queue_name(q))
                    for q in self.res.queues
                ]
                or [self.format_arn(service="sqs", resource=f"{self.res.prefix}-*")],
            )
        )
        self.api = Chalice(
            self,
            "Api",
            source_dir=str(self.artifacts.api_source),
            stage_config={
                "api_gateway_stage": API_STAGE,
                "api_gateway_endpoint_type": "REGIONAL",  # CloudFront is the edge
                "lambda_memory_size": self.settings.api_memory_mb,
                "lambda_timeout": 29,
                "manage_iam_role": False,
                "iam_role_arn": self.api_role.role_arn,
                "autogen_policy": False,
                "xray": True,
                "environment_variables": self._env(api=True),
            },
        )
        rest_api = self.api.get_resource("RestAPI")
        rest_api.add_property_override(
            "MethodSettings",
            [
                {
                    "ResourcePath": "/*",
                    "HttpMethod": "*",
                    "ThrottlingRateLimit": self.settings.api_rate_limit,
                    "ThrottlingBurstLimit": self.settings.api_burst_limit,
                    "MetricsEnabled": True,
                }
            ],
        )
        rest_api.add_property_override(
            "GatewayResponses",
            {
                "MISSING_AUTHENTICATION_TOKEN": {
                    "StatusCode": "404",
                    "ResponseTemplates": {"application/json": json.dumps(NOT_FOUND_BODY)},
                }
            },
        )
        self.rest_api_id = rest_api.ref
        handler = self.api.get_resource("APIHandler")
        handler.add_property_override("Architectures", ["x86_64"])
        self._function_alarms("ApiHandler", handler.ref)
        logs.LogGroup(
            self,
            "ApiHandlerLogs",
            log_group_name=cdk.Fn.join("", ["/aws/lambda/", handler.ref]),
            retention=self._retention(),
            removal_policy=cdk.RemovalPolicy.DESTROY,
        )

    def _security_headers(self, construct_id: str, csp: str, override_csp: bool) -> Any:
        return cloudfront.ResponseHeadersPolicy(
            self,
            construct_id,
            security_headers_behavior=cloudfront.ResponseSecurityHeadersBehavior(
                strict_transport_security=cloudfront.ResponseHeadersStrictTransportSecurity(
                    access_control_max_age=cdk.Duration.days(730),
                    include_subdomains=True,
                    preload=True,
                    override=True,
                ),
                content_security_policy=cloudfront.ResponseHeadersContentSecurityPolicy(
                    content_security_policy=csp, override=override_csp
                ),
                content_type_options=cloudfront.ResponseHeadersContentTypeOptions(override=True),
                referrer_policy=cloudfront.ResponseHeadersReferrerPolicy(
                    referrer_policy=cloudfront.HeadersReferrerPolicy.STRICT_ORIGIN_WHEN_CROSS_ORIGIN,
                    override=True,
                ),
                frame_options=cloudfront.ResponseHeadersFrameOptions(
                    frame_option=cloudfront.HeadersFrameOption.DENY, override=True
                ),
            ),
        )

    def _distribution(self) -> None:
        # The staff app opens the live-notifications WebSocket on its API Gateway domain.
        live = f"wss://{self.live_api.api_id}.execute-api.{self.region}.{self.url_suffix}"
        csp = spa_csp(connect=[*AWS_ORIGINS, live], images=AWS_ORIGINS)
        headers = self._security_headers("SecurityHeaders", csp, override_csp=True)
        api_headers = self._security_headers("ApiSecurityHeaders", API_CSP, override_csp=False)
        fallback = cloudfront.Function(
            self,
            "SpaFallback",
            code=cloudfront.FunctionCode.from_inline(SPA_FALLBACK_JS),
            runtime=cloudfront.FunctionRuntime.JS_2_0,
            comment="SPA routes -> /index.html",
        )
        api_origin = origins.HttpOrigin(
            cdk.Fn.join("", [self.rest_api_id, ".execute-api.", self.region, ".", self.url_suffix]),
            # Viewer /api/v1/x -> origin /api/api/v1/x = stage "api", Chalice route /api/v1/x.
            origin_path=f"/{API_STAGE}",
            protocol_policy=cloudfront.OriginProtocolPolicy.HTTPS_ONLY,
        )
        domain: dict[str, Any] = {}
        if self.settings.domain_name and self.settings.certificate_arn:
            domain = {
                "domain_names": [self.settings.domain_name],
                "certificate": acm.Certificate.from_certificate_arn(
                    self, "Certificate", self.settings.certificate_arn
                ),
            }
        self.distribution = cloudfront.Distribution(
            self,
            "Distribution",
            comment=f"{self.res.prefix} staff SPA and API",
            default_root_object="index.html",
            price_class=cloudfront.PriceClass.PRICE_CLASS_100,
            http_version=cloudfront.HttpVersion.HTTP2_AND_3,
            minimum_protocol_version=cloudfront.SecurityPolicyProtocol.TLS_V1_2_2021,
            default_behavior=cloudfront.BehaviorOptions(
                origin=origins.S3BucketOrigin.with_origin_access_control(self.spa_bucket),
                viewer_protocol_policy=cloudfront.ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
                cache_policy=cloudfront.CachePolicy.CACHING_OPTIMIZED,
                response_headers_policy=headers,
                function_associations=[
                    cloudfront.FunctionAssociation(
                        function=fallback, event_type=cloudfront.FunctionEventType.VIEWER_REQUEST
                    )
                ],
            ),
            additional_behaviors={
                "/api/*": cloudfront.BehaviorOptions(
                    origin=api_origin,
                    viewer_protocol_policy=cloudfront.ViewerProtocolPolicy.HTTPS_ONLY,
                    allowed_methods=cloudfront.AllowedMethods.ALLOW_ALL,
                    # Uncached; with caching disabled this policy forwards Authorization,
                    # every other viewer header but Host, cookies and query strings.
                    cache_policy=cloudfront.CachePolicy.CACHING_DISABLED,
                    origin_request_policy=cloudfront.OriginRequestPolicy.ALL_VIEWER_EXCEPT_HOST_HEADER,
                    response_headers_policy=api_headers,
                )
            },
            **domain,
        )
        self.spa_url = self.settings.public_url or cdk.Fn.join(
            "", ["https://", self.distribution.distribution_domain_name]
        )
        ssm.StringParameter(
            self,
            "AppUrl",
            parameter_name=self._app_url_name,
            string_value=self.spa_url,
            description="The staff SPA's public URL: the API's emailed links start with it",
        )
        if not self.settings.public_url:
            cfn_bucket = self.media_bucket.node.default_child
            cfn_bucket.add_property_override(  # type: ignore[union-attr]
                "CorsConfiguration.CorsRules.0.AllowedOrigins", [self.spa_url]
            )
        if self.artifacts.spa_dist is not None:
            s3deploy.BucketDeployment(
                self,
                "SpaDeployment",
                sources=[s3deploy.Source.asset(str(self.artifacts.spa_dist))],
                destination_bucket=self.spa_bucket,
                distribution=self.distribution,
                distribution_paths=["/index.html"],
                prune=True,
            )

    # -- live notifications ----------------------------------------------------------------------

    def _live_api(self) -> None:
        """The live-notifications WebSocket API (docs/adr/1101-live-notifications.md): one
        function serves $connect (ticket), $disconnect and $default (pings, answered through the
        route's response); the ``live`` queue's function and the ``live-expiry`` job post to and
        close its connections through the stage's Management API (grant ``live_push``)."""
        spec = self.res.live_socket
        self.live_api = apigwv2.WebSocketApi(
            self,
            "LiveApi",
            api_name=self.res.live_api,
            description="Live notifications: a clinic's domain events pushed to its staff screens",
            route_selection_expression="$request.body.action",
        )
        self.live_stage = apigwv2.WebSocketStage(
            self,
            "LiveStage",
            web_socket_api=self.live_api,
            stage_name=spec.stage,
            auto_deploy=True,
            throttle=apigwv2.ThrottleSettings(
                rate_limit=self.settings.api_rate_limit, burst_limit=self.settings.api_burst_limit
            ),
        )
        self.live_url = self.live_stage.url  # wss://<api>.execute-api.<region>.<suffix>/<stage>
        self.live_management_url = self.live_stage.callback_url  # https://.../<stage>

    def _live_socket(self) -> None:
        """The socket's function, after the WebSocket API (its environment names the API; the
        routes name the function) and CloudFront (APP_URL, as every worker)."""
        spec = self.res.live_socket
        self.live_socket_function = self._function(
            "LiveSocket",
            handler=spec.handler,
            description=spec.description,
            memory_mb=spec.memory_mb,
            timeout_s=spec.timeout_s,
            grants=spec.grants,
            imaging=False,
        )
        integration = apigwv2_integrations.WebSocketLambdaIntegration(
            "LiveSocketIntegration", self.live_socket_function
        )
        for route in spec.routes:
            self.live_api.add_route(
                route,
                integration=integration,
                return_response=route in spec.routes_with_response or None,
            )

    # -- async ---------------------------------------------------------------------------------

    def _layers(self) -> None:
        arch = [WORKER_ARCH]
        self.deps_layer = lambda_.LayerVersion(
            self,
            "DepsLayer",
            code=lambda_.Code.from_asset(str(self.artifacts.deps_layer)),
            compatible_runtimes=[RUNTIME],
            compatible_architectures=arch,
            description="chalicelib runtime dependencies (requirements.txt), manylinux arm64",
        )
        self.imaging_layer = lambda_.LayerVersion(
            self,
            "ImagingLayer",
            code=lambda_.Code.from_asset(str(self.artifacts.imaging_layer)),
            compatible_runtimes=[RUNTIME],
            compatible_architectures=arch,
            description="Pillow, numpy, pydicom and decoders (requirements-imaging.txt) with "
            "chalicelib's dependencies (requirements.txt), manylinux arm64",
        )
        self.worker_code = lambda_.Code.from_asset(str(self.artifacts.worker_code))

    def _dlq(self, cid: str, name: str) -> sqs.Queue:
        dlq = sqs.Queue(
            self,
            cid,
            queue_name=name,
            retention_period=cdk.Duration.days(14),
            encryption=sqs.QueueEncryption.SQS_MANAGED,
            enforce_ssl=True,
        )
        alarm = cloudwatch.Alarm(
            self,
            f"{cid}-depth",
            alarm_name=f"{name}-not-empty",
            alarm_description=f"Messages are waiting in {name}: inspect and redrive them.",
            metric=dlq.metric_approximate_number_of_messages_visible(
                period=cdk.Duration.minutes(5), statistic="Maximum"
            ),
            threshold=0,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
            evaluation_periods=1,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
        )
        alarm.add_alarm_action(cw_actions.SnsAction(self.alarm_topic))
        return dlq

    def _queue_worker(self, q: Any) -> None:
        res = self.res
        cid = "".join(p.capitalize() for p in q.name.split("-"))
        dlq = self._dlq(f"{cid}Dlq", res.dlq_name(q))
        queue = sqs.Queue(
            self,
            f"{cid}Queue",
            queue_name=res.queue_name(q),
            visibility_timeout=cdk.Duration.seconds(q.visibility_timeout_s),
            retention_period=cdk.Duration.days(4),
            encryption=sqs.QueueEncryption.SQS_MANAGED,
            enforce_ssl=True,
            dead_letter_queue=sqs.DeadLetterQueue(queue=dlq, max_receive_count=q.max_receive_count),
        )
        rule = events.Rule(
            self,
            f"{cid}Rule",
            rule_name=res.rule_name(q),
            description=q.description,
            event_bus=self.default_bus if q.on_default_bus else self.bus,
            event_pattern=events.EventPattern(source=q.event_pattern.get("source")),
            targets=[targets.SqsQueue(queue)],
        )
        # The pattern exactly as resources.py (and the local stack) has it: CDK's EventPattern
        # type cannot express content filters such as {"prefix": ...} in detail-type.
        rule.node.default_child.add_property_override(  # type: ignore[union-attr]
            "EventPattern", q.event_pattern
        )
        fn = self._function(
            cid,
            handler=q.handler,
            description=q.description,
            memory_mb=q.memory_mb,
            timeout_s=max(3, q.visibility_timeout_s // 6),
            grants=q.grants,
            imaging=q.needs_imaging_layer,
            ephemeral_storage_mb=q.ephemeral_storage_mb,
        )
        fn.add_event_source(
            sources.SqsEventSource(queue, batch_size=q.batch_size, report_batch_item_failures=True)
        )
        self.worker_functions[q.name] = fn

    def _schedule(self, sc: Any) -> None:
        cid = "".join(p.capitalize() for p in sc.name.split("-"))
        fn = self._function(
            cid,
            handler=sc.handler,
            description=sc.description,
            memory_mb=sc.memory_mb,
            timeout_s=sc.timeout_s,
            grants=sc.grants,
            imaging=False,
        )
        role = iam.Role(
            self,
            f"{cid}SchedulerRole",
            assumed_by=iam.ServicePrincipal(
                "scheduler.amazonaws.com",
                conditions={"StringEquals": {"aws:SourceAccount": self.account}},
            ),
        )
        fn.grant_invoke(role)
        self.schedule_dlq.grant_send_messages(role)
        scheduler.CfnSchedule(
            self,
            f"{cid}Schedule",
            name=f"{self.res.prefix}-{sc.name}",
            description=sc.description,
            schedule_expression=sc.expression,
            flexible_time_window=scheduler.CfnSchedule.FlexibleTimeWindowProperty(mode="OFF"),
            state="ENABLED",
            target=scheduler.CfnSchedule.TargetProperty(
                arn=fn.function_arn,
                role_arn=role.role_arn,
                input=json.dumps({"schedule": sc.name}),
                retry_policy=scheduler.CfnSchedule.RetryPolicyProperty(
                    maximum_event_age_in_seconds=3600, maximum_retry_attempts=2
                ),
                dead_letter_config=scheduler.CfnSchedule.DeadLetterConfigProperty(
                    arn=self.schedule_dlq.queue_arn
                ),
            ),
        )
        self.worker_functions[sc.name] = fn

    # -- functions and permissions -------------------------------------------------------------

    def _function(
        self,
        cid: str,
        *,
        handler: str,
        description: str,
        memory_mb: int,
        timeout_s: int,
        grants: tuple[str, ...],
        imaging: bool,
        ephemeral_storage_mb: int = 512,
    ) -> lambda_.Function:
        role = self._role(f"{cid}Role", description)
        self._grant(role, grants)
        # One layer per function: the imaging layer includes the deps layer's packages.
        layers = [self.imaging_layer if imaging else self.deps_layer]
        fn = lambda_.Function(
            self,
            f"{cid}Function",
            runtime=RUNTIME,
            architecture=WORKER_ARCH,
            handler=handler_path(handler),
            code=self.worker_code,
            layers=layers,
            memory_size=memory_mb,
            ephemeral_storage_size=cdk.Size.mebibytes(ephemeral_storage_mb),
            timeout=cdk.Duration.seconds(timeout_s),
            description=description[:256],
            role=role,
            environment=self._env(),
            tracing=lambda_.Tracing.ACTIVE,
            log_group=self._log_group(f"{cid}Logs"),
        )
        self._function_alarms(cid, fn.function_name)
        return fn

    def _role(self, cid: str, what: str) -> iam.Role:
        return iam.Role(
            self,
            cid,
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            description=f"{self.res.prefix}: {what}"[:1000],
            managed_policies=[
                iam.ManagedPolicy.from_aws_managed_policy_name(
                    "service-role/AWSLambdaBasicExecutionRole"
                ),
                iam.ManagedPolicy.from_aws_managed_policy_name("AWSXRayDaemonWriteAccess"),
            ],
        )

    def _grant(self, role: iam.Role, grants: tuple[str, ...]) -> None:
        unknown = set(grants) - set(GRANTS)
        if unknown:
            raise ValueError(f"unknown grants {sorted(unknown)} (see infra/resources.py GRANTS)")
        if "tenant" in grants:
            # Clinic-scoped credentials for the clinic being served (ADR 0012).
            self.tenant_role.grant_assume_role(role)
        if "global" in grants:
            # Every clinic's data through the tenant-data role only: the function's own role
            # reaches the global lookups and the global index keys, never a C# partition, and
            # no object (ADR 0012).
            for st in scoping.global_policy(table_arn=self.table.table_arn)["Statement"]:
                role.add_to_policy(iam.PolicyStatement.from_json(st))
            role.add_to_policy(
                iam.PolicyStatement(
                    actions=list(scoping.DATA_KEY_ACTIONS),
                    resources=[self.key.key_arn],
                    conditions={
                        "StringEquals": {"kms:ViaService": f"dynamodb.{self.region}.amazonaws.com"}
                    },
                )
            )
        if "archive_write" in grants:
            objects = self.archive_bucket.arn_for_objects("verifactu/*")
            # put only (and read back what it wrote); never delete, never change retention
            actions = ["s3:GetObject", "s3:GetObjectVersion", "s3:PutObject"]
            role.add_to_policy(iam.PolicyStatement(actions=actions, resources=[objects]))
            # Without ListBucket a missing copy answers 403 instead of 404 (left without an
            # s3:prefix condition: GetObject's 404 check has no prefix to match).
            role.add_to_policy(
                iam.PolicyStatement(
                    actions=["s3:ListBucket"], resources=[self.archive_bucket.bucket_arn]
                )
            )
        if "events" in grants:
            self.bus.grant_put_events_to(role)
            role.add_to_policy(
                iam.PolicyStatement(
                    actions=["events:DescribeEventBus"], resources=[self.bus.event_bus_arn]
                )
            )
        if "kms" in grants:
            self.key.grant(role, "kms:GenerateDataKey", "kms:Decrypt")
        if "secrets" in grants:
            self.secret.grant_read(role)
        if "live_push" in grants:
            # Post to, read and close connections of the live stage, nothing else of the API.
            role.add_to_policy(
                iam.PolicyStatement(
                    actions=["execute-api:ManageConnections"],
                    resources=[
                        self.format_arn(
                            service="execute-api",
                            resource=self.live_api.api_id,
                            resource_name=f"{self.res.live_socket.stage}/*/@connections/*",
                        )
                    ],
                )
            )
        if "live_ready" in grants:
            live_queue = next(q for q in self.res.queues if q.name == "live")
            role.add_to_policy(
                iam.PolicyStatement(
                    actions=["sqs:SendMessage", "sqs:GetQueueUrl"],
                    resources=[
                        self.format_arn(service="sqs", resource=self.res.queue_name(live_queue))
                    ],
                )
            )
        if "mail" in grants:
            role.add_to_policy(
                iam.PolicyStatement(
                    actions=["ses:SendEmail", "ses:SendRawEmail"],
                    resources=[
                        self.format_arn(service="ses", resource="identity", resource_name="*"),
                        self.format_arn(
                            service="ses",
                            resource="configuration-set",
                            resource_name=self.res.prefix,
                        ),
                    ],
                    conditions={"StringEquals": {"ses:FromAddress": self.res.mail_sender}},
                )
            )

    def _env(self, *, api: bool = False) -> dict[str, str]:
        """Every function's environment: the names from resources.py, the stage's product
        overrides, APP_URL (the SPA's public URL, in invitation and patient links), the live
        WebSocket's URL (LIVE_URL, what tickets point at) and its Management API endpoint
        (LIVE_MANAGEMENT_URL)."""
        res = self.res
        env = {
            "CUSPIDE_STAGE": res.stage,
            "TABLE_NAME": res.table_name,
            "MEDIA_BUCKET": res.media_bucket,
            "ARCHIVE_BUCKET": res.archive_bucket,
            "EVENT_BUS_NAME": res.event_bus,
            "KMS_KEY_ALIAS": res.kms_alias,
            "SIGNING_SECRET_NAME": res.signing_secret,
            "MAIL_SENDER": res.mail_sender,
            "TENANT_ROLE_ARN": self.tenant_role.role_arn,
            "MAIL_CONFIGURATION_SET": res.prefix,  # the stage's SES configuration set
            "TRUSTED_PROXY_HOPS": "1",  # CloudFront -> API Gateway
            "QUEUE_NAMES": ",".join(res.queue_name(q) for q in res.queues),
            "POWERTOOLS_SERVICE_NAME": "cuspide",
            "POWERTOOLS_METRICS_NAMESPACE": "Cuspide",
            "LIVE_URL": self.live_url,
            "LIVE_MANAGEMENT_URL": self.live_management_url,
            **dict(self.settings.product_env),
        }
        if self.settings.public_url:
            env["APP_URL"] = self.settings.public_url
        elif not api:
            # Workers are not behind CloudFront, so they can reference its domain.
            env["APP_URL"] = self.spa_url
        else:
            # The API cannot (CloudFront routes /api/* to it: a cycle). It gets the parameter's
            # name, a plain string, and reads the URL the stack wrote there on first use.
            env["APP_URL_PARAMETER"] = self._app_url_name
        return env

    @property
    def _app_url_name(self) -> str:
        return f"/{self.res.prefix}/app-url"

    def _retention(self) -> logs.RetentionDays:
        return (
            logs.RetentionDays.ONE_YEAR
            if self.settings.log_retention_days >= 365
            else logs.RetentionDays.ONE_MONTH
        )

    def _log_group(self, cid: str) -> logs.LogGroup:
        return logs.LogGroup(
            self, cid, retention=self._retention(), removal_policy=cdk.RemovalPolicy.DESTROY
        )

    def _function_alarms(self, cid: str, function_name: str) -> None:
        metric = cloudwatch.Metric(
            namespace="AWS/Lambda",
            metric_name="Errors",
            dimensions_map={"FunctionName": function_name},
            statistic="Sum",
            period=cdk.Duration.minutes(5),
        )
        alarm = cloudwatch.Alarm(
            self,
            f"{cid}Errors",
            alarm_description=f"{cid} raised errors (unhandled exceptions or timeouts).",
            metric=metric,
            threshold=0,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
            evaluation_periods=1,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
        )
        alarm.add_alarm_action(cw_actions.SnsAction(self.alarm_topic))

    def _unsent_events_alarm(self) -> None:
        """Events the bus refused wait in the table for the events-redrive job, which reports how
        many are left (Powertools EMF metric); a quarter of an hour of leftovers pages someone."""
        alarm = cloudwatch.Alarm(
            self,
            "UnsentEvents",
            alarm_name=f"{self.res.prefix}-unsent-events",
            alarm_description="Domain events are parked unsent: the bus keeps refusing them "
            "(see the events-redrive logs).",
            metric=cloudwatch.Metric(
                namespace="Cuspide",
                metric_name="UnsentEvents",
                dimensions_map={"service": "cuspide"},
                statistic="Minimum",
                period=cdk.Duration.minutes(5),
            ),
            threshold=0,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
            evaluation_periods=3,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
        )
        alarm.add_alarm_action(cw_actions.SnsAction(self.alarm_topic))

    # -- outputs -------------------------------------------------------------------------------

    def _outputs(self) -> None:
        cdk.CfnOutput(self, "SpaUrl", value=self.spa_url, description="Staff SPA")
        cdk.CfnOutput(
            self,
            "ApiUrl",
            value=cdk.Fn.join("", [self.spa_url, "/api/v1"]),
            description="API through CloudFront",
        )
        cdk.CfnOutput(
            self,
            "ApiGatewayUrl",
            value=cdk.Fn.join(
                "",
                [
                    "https://",
                    self.rest_api_id,
                    ".execute-api.",
                    self.region,
                    ".",
                    self.url_suffix,
                    f"/{API_STAGE}/api/v1",
                ],
            ),
            description="API Gateway stage, bypassing CloudFront (diagnostics)",
        )
        cdk.CfnOutput(self, "LiveUrl", value=self.live_url, description="Live WebSocket")
        cdk.CfnOutput(self, "MediaBucketName", value=self.media_bucket.bucket_name)
        cdk.CfnOutput(self, "SpaBucketName", value=self.spa_bucket.bucket_name)
        cdk.CfnOutput(self, "ArchiveBucketName", value=self.archive_bucket.bucket_name)
        cdk.CfnOutput(self, "TableName", value=self.table.table_name)
        cdk.CfnOutput(self, "EventBusName", value=self.bus.event_bus_name)
        cdk.CfnOutput(self, "SigningSecretName", value=self.res.signing_secret)
        cdk.CfnOutput(self, "MailFeedbackTopic", value=self.mail_feedback.topic_arn)
        cdk.CfnOutput(self, "AlarmTopic", value=self.alarm_topic.topic_arn)


def _lifecycle_rule(r: LifecycleRule) -> s3.LifecycleRule:
    """A lifecycle rule of infra/resources.py as the CDK declares it."""
    days = cdk.Duration.days
    return s3.LifecycleRule(
        id=r.id,
        tag_filters=dict([r.tag]) if r.tag else None,
        transitions=[
            s3.Transition(
                storage_class=s3.StorageClass(t.storage_class), transition_after=days(t.days)
            )
            for t in r.transitions
        ]
        or None,
        abort_incomplete_multipart_upload_after=days(r.abort_incomplete_multipart_days)
        if r.abort_incomplete_multipart_days is not None
        else None,
        noncurrent_version_expiration=days(r.noncurrent_expiration_days)
        if r.noncurrent_expiration_days is not None
        else None,
        expired_object_delete_marker=r.expired_object_delete_marker or None,
        expiration=days(r.expiration_days) if r.expiration_days is not None else None,
    )
