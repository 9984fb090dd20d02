// Stand-in for ankerl::unordered_dense (https://github.com/martinus/unordered_dense),
// which Debian bookworm does not package. mediasoup only uses map, set and hash,
// never the dense-vector specific API, so the standard containers serve. They
// are slower, not different: mediasoup never relies on iteration order.
#ifndef DESKCAST_ANKERL_UNORDERED_DENSE_H
#define DESKCAST_ANKERL_UNORDERED_DENSE_H

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <type_traits>
#include <unordered_map>
#include <unordered_set>
#include <utility>

namespace ankerl::unordered_dense
{
	namespace detail
	{
		// splitmix64 finalizer. libstdc++'s std::hash of integers and pointers is
		// the identity, which clusters aligned pointers and sequential ids into
		// few buckets; mixing every bit restores an even spread.
		inline std::size_t mix(std::uint64_t x) noexcept
		{
			x ^= x >> 30;
			x *= UINT64_C(0xbf58476d1ce4e5b9);
			x ^= x >> 27;
			x *= UINT64_C(0x94d049bb133111eb);
			x ^= x >> 31;

			return static_cast<std::size_t>(x);
		}
	} // namespace detail

	// Anything else (std::string, user types with a std::hash) keeps std::hash.
	template<typename T, typename Enable = void>
	struct hash
	{
		std::size_t operator()(const T& value) const noexcept(noexcept(std::hash<T>{}(value)))
		{
			return std::hash<T>{}(value);
		}
	};

	template<typename T>
	struct hash<T, std::enable_if_t<std::is_integral_v<T> || std::is_enum_v<T> || std::is_pointer_v<T>>>
	{
		std::size_t operator()(T value) const noexcept
		{
			if constexpr (std::is_pointer_v<T>)
			{
				return detail::mix(reinterpret_cast<std::uintptr_t>(value));
			}
			else if constexpr (std::is_enum_v<T>)
			{
				return detail::mix(static_cast<std::uint64_t>(static_cast<std::underlying_type_t<T>>(value)));
			}
			else
			{
				return detail::mix(static_cast<std::uint64_t>(value));
			}
		}
	};

	template<
	  class Key,
	  class T,
	  class Hash      = hash<Key>,
	  class KeyEqual  = std::equal_to<Key>,
	  class Allocator = std::allocator<std::pair<const Key, T>>>
	using map = std::unordered_map<Key, T, Hash, KeyEqual, Allocator>;

	template<class Key, class Hash = hash<Key>, class KeyEqual = std::equal_to<Key>, class Allocator = std::allocator<Key>>
	using set = std::unordered_set<Key, Hash, KeyEqual, Allocator>;
} // namespace ankerl::unordered_dense

#endif
