import Testing

/// The tests that boot VMs or build kernels, one at a time: on two cores, parallel boots and builds would only
/// be slower, and the timing checks of one would measure the load of another.
@Suite(.serialized) struct SerializedIntegrationTests {}
