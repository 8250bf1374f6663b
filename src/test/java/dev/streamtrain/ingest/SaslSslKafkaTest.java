package dev.streamtrain.ingest;

import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.common.ResourceArg;
import io.quarkus.test.junit.QuarkusTest;

import java.util.Map;

import dev.streamtrain.support.SecuredKafkaBroker;
import dev.streamtrain.support.SecuredKafkaResource;

/** Training and dead letters over SASL_SSL with SCRAM-SHA-512 (TLS to a broker whose certificate a test CA signed). */
@QuarkusTest
@QuarkusTestResource(value = SecuredKafkaResource.class, restrictToAnnotatedClass = true,
        initArgs = @ResourceArg(name = "listener", value = "sasl-ssl"))
class SaslSslKafkaTest extends SecuredKafkaContract {

    @Override
    Map<String, Object> client() {
        return broker().saslSslClient(SecuredKafkaBroker.USER, SecuredKafkaBroker.PASSWORD);
    }

    @Override
    Map<String, Object> refusedClient() {
        return broker().saslSslClient(SecuredKafkaBroker.USER, "not-" + SecuredKafkaBroker.PASSWORD);
    }
}
