import BootTimeline
import Testing

/// Budgets per accelerator and per backend on an accelerator, merged from the project, a suite and a test.
@Suite struct BudgetKeyTests {
    @Test func aBackendsOwnLimitsWinOnThatBackendOnly() {
        let budgets = BudgetKey.merge([["kvm": Budget(boot: 0.4, shutdown: 0.1), "kvm.libvirt": Budget(shutdown: 0.3)]])
        #expect(BudgetKey.budget(in: budgets, accelerator: "kvm", backend: "libvirt") == Budget(boot: 0.4, shutdown: 0.3))
        #expect(BudgetKey.budget(in: budgets, accelerator: "kvm", backend: "qemu") == Budget(boot: 0.4, shutdown: 0.1))
        #expect(BudgetKey.budget(in: budgets, accelerator: "kvm", backend: nil) == Budget(boot: 0.4, shutdown: 0.1))
        #expect(BudgetKey.budget(in: budgets, accelerator: "tcg", backend: "libvirt") == nil)
    }

    /// The more specific file wins, whether it names the backend or not: a test's own shutdown limit holds on
    /// libvirt too, over the project's allowance for libvirt; a suite's libvirt limit beats the suite's own kvm one.
    @Test func aLaterFileBeatsAnEarlierOnesBackendLimits() {
        let project = ["kvm": Budget(boot: 0.4, shutdown: 0.1), "kvm.libvirt": Budget(boot: 0.7, shutdown: 0.3)]
        let suite = ["kvm": Budget(boot: 0.5), "kvm.libvirt": Budget(boot: 0.8)]
        let test = ["kvm": Budget(shutdown: 0.05)]
        let merged = BudgetKey.merge([project, suite, test])
        #expect(merged["kvm"] == Budget(boot: 0.5, shutdown: 0.05))
        #expect(merged["kvm.libvirt"] == Budget(boot: 0.8, shutdown: 0.05))
        #expect(BudgetKey.merge([project, ["tcg.libvirt": Budget()]])["tcg.libvirt"] == nil)
    }

    @Test func keysNameTheAcceleratorThenTheBackend() {
        #expect(BudgetKey.key(accelerator: "tcg", backend: "libvirt") == "tcg.libvirt")
        #expect(BudgetKey.key(accelerator: "tcg", backend: nil) == "tcg")
        #expect(BudgetKey.parts(of: "kvm.qemu") == ("kvm", "qemu"))
        #expect(BudgetKey.parts(of: "kvm") == ("kvm", nil))
    }
}
