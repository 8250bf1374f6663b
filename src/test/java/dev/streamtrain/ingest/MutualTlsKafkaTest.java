package dev.streamtrain.ingest;

import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.common.ResourceArg;
import io.quarkus.test.junit.QuarkusTest;

import java.util.Map;

import dev.streamtrain.support.SecuredKafkaResource;

/** Training and dead letters over mutual TLS: the broker requires a client certificate signed by the test CA. */
@QuarkusTest
@QuarkusTestResource(value = SecuredKafkaResource.class, restrictToAnnotatedClass = true,
        initArgs = @ResourceArg(name = "listener", value = "mtls"))
class MutualTlsKafkaTest extends SecuredKafkaContract {

    @Override
    Map<String, Object> client() {
        return broker().mutualTlsClient();
    }

    @Override
    Map<String, Object> refusedClient() {
        return broker().tlsClientWithoutCertificate();
    }
}
