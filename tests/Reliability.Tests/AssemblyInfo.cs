// The fault tests start real processes (collector, agents, brokers) and time outages; run them
// one after the other so two cores are enough and timings stay meaningful.
[assembly: CollectionBehavior(DisableTestParallelization = true)]
