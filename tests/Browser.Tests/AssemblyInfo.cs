// One collector and one browser at a time: the page-load timings are measured on a quiet machine,
// not while another collector starts beside them.
[assembly: CollectionBehavior(DisableTestParallelization = true)]
