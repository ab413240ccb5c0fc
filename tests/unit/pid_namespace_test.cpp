// bulwark's identity for the kernel's self check (util/pid_namespace.hpp,
// docs/decisions/011-self-protection.md "Identity"): which namespace a
// /proc/self/ns/pid link names, and which self_tgid is chosen from the
// kernel's answer, the namespace and getpid().
#include "util/error.hpp"
#include "util/pid_namespace.hpp"

#include <doctest/doctest.h>

using namespace bulwark;

TEST_CASE("pid namespace: the link of the initial namespace, of another, and junk")
{
    CHECK(pid_namespace_of_link("pid:[4026531836]") == PidNamespace::initial);
    CHECK(pid_namespace_of_link("pid:[4026532201]") == PidNamespace::nested);
    CHECK(pid_namespace_of_link("pid:[]") == PidNamespace::unknown);
    CHECK(pid_namespace_of_link("pid:[4026531836") == PidNamespace::unknown);
    CHECK(pid_namespace_of_link("net:[4026531836]") == PidNamespace::unknown);
    CHECK(pid_namespace_of_link("pid:[40265x1836]") == PidNamespace::unknown);
    CHECK(pid_namespace_of_link("") == PidNamespace::unknown);
    // This process (unit tests do not run in a container of their own here,
    // but whatever the answer, it is not unknown where /proc is mounted).
    CHECK(own_pid_namespace() != PidNamespace::unknown);
}

TEST_CASE("pid namespace: self_tgid is the kernel's answer wherever bulwark runs")
{
    CHECK(choose_self_tgid(4242u, "", PidNamespace::initial, 4242) == 4242);
    // In a container: the kernel's number, not getpid().
    CHECK(choose_self_tgid(4242u, "", PidNamespace::nested, 7) == 4242);
    CHECK(choose_self_tgid(4242u, "", PidNamespace::unknown, 7) == 4242);
}

TEST_CASE("pid namespace: without the kernel's answer, getpid() only in the initial namespace")
{
    CHECK(choose_self_tgid(std::nullopt, "refused", PidNamespace::initial, 4242) == 4242);
    for (PidNamespace ns : {PidNamespace::nested, PidNamespace::unknown}) {
        CAPTURE(pid_namespace_name(ns));
        try {
            choose_self_tgid(std::nullopt, "the kernel refused it: EPERM", ns, 7);
            FAIL("no error without the kernel's answer outside the initial namespace");
        } catch (const Error& e) {
            const std::string what = e.what();
            CHECK(what.find("the kernel refused it: EPERM") != std::string::npos);
            CHECK(what.find("getpid() (7)") != std::string::npos);
            CHECK(!e.hint().empty());
        }
    }
}

TEST_CASE("pid namespace: an answer that cannot be right is refused")
{
    CHECK_THROWS_AS(choose_self_tgid(0u, "", PidNamespace::nested, 7), Error);
    // The initial namespace: getpid() is the global tgid, so they must agree.
    CHECK_THROWS_AS(choose_self_tgid(4243u, "", PidNamespace::initial, 4242), Error);
}
